-- Managed instances per account and region, how many are patch-compliant, and the share.
-- NotApplicable patches are COMPLIANT items: they never make an instance non-compliant.
SELECT pt.accountid, pt.region,
       COUNT(*) AS instances,
       SUM(CASE WHEN pt.status = 'COMPLIANT' THEN 1 ELSE 0 END) AS compliant,
       SUM(CASE WHEN pt.status = 'NON_COMPLIANT' THEN 1 ELSE 0 END) AS non_compliant,
       ROUND(100.0 * SUM(CASE WHEN pt.status = 'COMPLIANT' THEN 1 ELSE 0 END) / COUNT(*), 1) AS percent_compliant
FROM patch_table pt
GROUP BY pt.accountid, pt.region
ORDER BY pt.accountid, pt.region
