-- Patch runs that started in the last ${run_days} days, with their outcome counts.
SELECT r.runid, r.windowname, r.status, r.occurrence, r.finishedat, r.succeeded, r.failed, r.skipped, r.accountregions
FROM patch_runs r
WHERE date_diff('day', CAST(substr(r.createdat, 1, 10) AS DATE), current_date) <= ${run_days}
ORDER BY r.createdat DESC, r.runid
