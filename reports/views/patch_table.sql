-- The seed's QuickSight view (InventoryComplianceQuicksight), created in patchpilot's own
-- inventory database (the seed bound it to the wrong one): patch compliance per managed instance.
CREATE OR REPLACE VIEW patch_table AS
SELECT cs.resourceid, cs.status, cs.compliancetype, cs.accountid, cs.region,
       ii.platformname, ii.ipaddress, ii.platformtype, ii.instancestatus
FROM aws_compliancesummary cs
INNER JOIN aws_instanceinformation ii
        ON ii.resourceid = cs.resourceid AND ii.accountid = cs.accountid AND ii.region = cs.region
WHERE cs.compliancetype = 'Patch'
