-- The seed's PatchComplianceReport: every patch compliance item with its instance's platform.
SELECT ci.accountid, ci.region, ci.resourceid, ci.status, ci.classification, ci.id AS patch, ci.patchstate,
       ci.installedtime, ii.platformname, ii.ipaddress, ii.platformtype, ii.instancestatus
FROM aws_complianceitem ci
INNER JOIN aws_instanceinformation ii
        ON ii.resourceid = ci.resourceid AND ii.accountid = ci.accountid AND ii.region = ci.region
WHERE ci.compliancetype = 'Patch'
ORDER BY ci.accountid, ci.region, ci.resourceid, ci.id
