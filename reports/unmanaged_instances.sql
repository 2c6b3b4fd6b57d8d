-- Instances running in EC2 that SSM does not know: they are never patched.
SELECT e.accountid, e.region, e.instanceid, e.name, e.environment, e.owner, e.launchtime
FROM ec2_instances e
LEFT JOIN aws_instanceinformation ii
       ON ii.resourceid = e.instanceid AND ii.accountid = e.accountid AND ii.region = e.region
WHERE e.state = 'running' AND ii.resourceid IS NULL
ORDER BY e.accountid, e.region, e.instanceid
