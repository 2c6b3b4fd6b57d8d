-- The seed's QueryInstanceList (it filtered on instancestatus IS NULL, which lists nothing the
-- sync writes): every managed instance with its platform and agent.
SELECT ii.accountid, ii.region, ii.resourceid, ii.computername, ii.ipaddress, ii.platformtype, ii.platformname,
       ii.platformversion, ii.agentversion, ii.instancestatus
FROM aws_instanceinformation ii
ORDER BY ii.accountid, ii.region, ii.resourceid
