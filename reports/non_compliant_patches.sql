-- The seed's QueryNonCompliantPatch, without its LIMIT 20: every patch an instance is missing,
-- failed to install or installed pending a reboot.
SELECT ci.accountid, ci.region, ci.resourceid, ci.id AS patch, ci.title, ci.classification, ci.severity, ci.patchstate
FROM aws_complianceitem ci
WHERE ci.status = 'NON_COMPLIANT' AND ci.compliancetype = 'Patch'
ORDER BY ci.accountid, ci.region, ci.resourceid, ci.id
