-- Critical or security patches still missing on instances whose last patch operation is older
-- than ${stale_days} days (the inventory records when an instance last reported patching, not
-- when a patch was released).
SELECT ci.accountid, ci.region, ci.resourceid, ci.id AS patch, ci.title, ci.classification, ci.severity,
       substr(ci.executiontime, 1, 10) AS last_patch_operation,
       date_diff('day', CAST(substr(ci.executiontime, 1, 10) AS DATE), current_date) AS days_since
FROM aws_complianceitem ci
WHERE ci.compliancetype = 'Patch' AND ci.patchstate = 'Missing'
  AND (ci.severity = 'CRITICAL' OR ci.classification IN ('Security', 'SecurityUpdates', 'CriticalUpdates'))
  AND date_diff('day', CAST(substr(ci.executiontime, 1, 10) AS DATE), current_date) >= ${stale_days}
ORDER BY days_since DESC, ci.accountid, ci.region, ci.resourceid, ci.id
