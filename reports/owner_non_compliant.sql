-- Non-compliant instances with the contact tag of their owner (empty: the account's fallback
-- contact gets them). One mail per owner is built from these rows.
SELECT e.owner, pt.accountid, pt.region, pt.resourceid, e.name, e.environment, pt.platformname,
       cs.noncompliantcriticalcount + cs.noncomplianthighcount + cs.noncompliantmediumcount
         + cs.noncompliantlowcount + cs.noncompliantinformationalcount + cs.noncompliantunspecifiedcount AS missing_or_failed,
       cs.overallseverity
FROM patch_table pt
INNER JOIN aws_compliancesummary cs
        ON cs.resourceid = pt.resourceid AND cs.accountid = pt.accountid AND cs.region = pt.region
LEFT JOIN ec2_instances e
       ON e.instanceid = pt.resourceid AND e.accountid = pt.accountid AND e.region = pt.region
WHERE pt.status = 'NON_COMPLIANT'
ORDER BY e.owner, pt.accountid, pt.region, pt.resourceid
