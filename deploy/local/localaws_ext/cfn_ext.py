"""CloudFormation for deploy/cloudformation/: models for the resource types moto's
CloudFormation skips (each creates into the moto backend the API uses, so hooks on those
backends fire for stacks too), AWS::SQS::Queue/QueuePolicy into --sqs-endpoint, the EventBus
Ref, Glue's blank partition expression, and StackSet targets as AWS resolves them."""
import json
import threading

from moto.athena.models import athena_backends
from moto.cloudformation import parsing
from moto.cloudformation.models import StackInstances
from moto.cloudformation.responses import CloudFormationResponse
from moto.config.models import config_backends
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.events.models import EventBus
from moto.glue.models import glue_backends
from moto.s3.models import s3_backends
from moto.sqs.models import Queue as MotoQueue
from moto.sqs.models import sqs_backends
from moto.ssm import models as ssm_models
from moto.ssm.responses import SimpleSystemManagerResponse

from . import inventory, sim

_state_lock = threading.Lock()
_associations = {}  # (account, region) -> {association id: description}; moto's SSM has none
_queue_policies = {}  # queue URL -> policy JSON the SQS endpoint refused


def _properties(cloudformation_json):
    return cloudformation_json.get("Properties") or {}


class _Resource:
    """What every model below shares. Each model must subclass CloudFormationModel *directly*:
    moto finds models through CloudFormationModel.__subclasses__()."""

    name_property = ""

    def __init__(self, physical_id, account, region, attrs=None):
        self.physical_id, self.account, self.region = physical_id, account, region
        self.attrs = attrs or {}

    @property
    def physical_resource_id(self):
        return self.physical_id

    @classmethod
    def cloudformation_name_type(cls):
        return cls.name_property

    @classmethod
    def has_cfn_attr(cls, attr):
        return True

    def get_cfn_attribute(self, attribute_name):
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
        if attribute_name not in self.attrs:
            raise UnformattedGetAttTemplateException()
        return self.attrs[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name,
                                        **kwargs):
        return cls.create(resource_name, _properties(cloudformation_json), account_id, region_name)

    def is_created(self):
        return True

    def delete(self, account_id, region_name):
        """moto's stack delete calls this first (and the class method only on AttributeError)."""
        self.remove()


# ---- SQS: the separate endpoint (ElasticMQ) when there is one, else moto -------------------

def _sqs_client(region):
    import boto3
    return boto3.client("sqs", endpoint_url=sim.SETTINGS["sqs_endpoint"], region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test")


_QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                     "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "FifoQueue",
                     "ContentBasedDeduplication")


class SqsQueue(_Resource, CloudFormationModel):
    """Defined after moto's Queue, so moto's type map (last class wins) picks this one."""

    name_property = "QueueName"

    @staticmethod
    def cloudformation_type():
        return "AWS::SQS::Queue"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name,
                                        **kwargs):
        if not sim.SETTINGS.get("sqs_endpoint"):
            return MotoQueue.create_from_cloudformation_json(resource_name, cloudformation_json, account_id,
                                                             region_name, **kwargs)
        return super().create_from_cloudformation_json(resource_name, cloudformation_json, account_id,
                                                       region_name, **kwargs)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        """Only reached for moto's own queues (ours have delete()): moto finds the class by type."""
        MotoQueue.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def create(cls, name, props, account, region):
        attrs = {k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
                 for k in _QUEUE_ATTRIBUTES if k in props}
        if props.get("RedrivePolicy"):
            # The DLQ's GetAtt made CloudFormation create it first; ElasticMQ matches it by name.
            attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        client = _sqs_client(region)
        try:
            url = client.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        except client.exceptions.QueueNameExists:  # made earlier with other attributes: take it over
            url = client.get_queue_url(QueueName=name)["QueueUrl"]
            client.set_queue_attributes(QueueUrl=url, Attributes=attrs)
        return cls(url, account, region, {"Arn": f"arn:aws:sqs:{region}:{account}:{name}",
                                          "QueueName": name, "QueueUrl": url})

    def remove(self):
        _sqs_client(self.region).delete_queue(QueueUrl=self.physical_id)
        with _state_lock:
            _queue_policies.pop(self.physical_id, None)


class SqsQueuePolicy(_Resource, CloudFormationModel):
    @staticmethod
    def cloudformation_type():
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create(cls, name, props, account, region):
        policy = json.dumps(props["PolicyDocument"])
        queues = list(props.get("Queues") or [])
        for url in queues:
            _set_queue_policy(account, region, url, policy)
        return cls(name, account, region, {"queues": queues})

    def remove(self):
        from botocore.exceptions import ClientError
        from moto.sqs.exceptions import QueueDoesNotExist
        for url in self.attrs["queues"]:
            try:
                _set_queue_policy(self.account, self.region, url, "")
            except (ClientError, QueueDoesNotExist):  # moto's stack delete may drop the queue first
                pass


def _set_queue_policy(account, region, url, policy):
    if not sim.SETTINGS.get("sqs_endpoint"):
        sqs_backends[account][region].set_queue_attributes(url.rsplit("/", 1)[-1], {"Policy": policy})
        return
    from botocore.exceptions import ClientError
    try:
        _sqs_client(region).set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    except ClientError:  # the endpoint keeps no policies: remember it, nothing enforces it locally anyway
        with _state_lock:
            _queue_policies[url] = policy


# ---- S3, Glue, Athena ----------------------------------------------------------------------

class S3BucketPolicy(_Resource, CloudFormationModel):
    @staticmethod
    def cloudformation_type():
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, name, props, account, region):
        bucket = props["Bucket"]
        s3_backends[account]["aws"].put_bucket_policy(bucket, json.dumps(props["PolicyDocument"]).encode())
        return cls(bucket, account, region)

    def remove(self):
        backend = s3_backends[self.account]["aws"]
        if self.physical_id in backend.buckets:  # moto's stack delete may drop the bucket first
            backend.delete_bucket_policy(self.physical_id)


class GlueDatabase(_Resource, CloudFormationModel):
    @staticmethod
    def cloudformation_type():
        return "AWS::Glue::Database"

    @classmethod
    def create(cls, name, props, account, region):
        db_input = props["DatabaseInput"]
        glue_backends[account][region].create_database(db_input["Name"], db_input)
        return cls(db_input["Name"], account, region)

    def remove(self):
        glue_backends[self.account][self.region].delete_database(self.physical_id)


class GlueTable(_Resource, CloudFormationModel):
    @staticmethod
    def cloudformation_type():
        return "AWS::Glue::Table"

    @classmethod
    def create(cls, name, props, account, region):
        table_input = props["TableInput"]
        glue_backends[account][region].create_table(props["DatabaseName"], table_input["Name"], table_input)
        return cls(table_input["Name"], account, region, {"database": props["DatabaseName"]})

    def remove(self):
        backend = glue_backends[self.account][self.region]
        if self.attrs["database"] in backend.databases:  # moto's stack delete may drop the database first
            backend.delete_table(self.attrs["database"], self.physical_id)


class AthenaWorkGroup(_Resource, CloudFormationModel):
    name_property = "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::Athena::WorkGroup"

    @classmethod
    def create(cls, name, props, account, region):
        backend = athena_backends[account][region]
        backend.create_work_group(name, dict(props.get("WorkGroupConfiguration") or {}),
                                  props.get("Description", ""), props.get("Tags") or [])
        if props.get("State"):
            backend.work_groups[name].state = props["State"]
        return cls(name, account, region)

    def remove(self):
        athena_backends[self.account][self.region].delete_work_group(self.physical_id)


class AthenaNamedQuery(_Resource, CloudFormationModel):
    @staticmethod
    def cloudformation_type():
        return "AWS::Athena::NamedQuery"

    @classmethod
    def create(cls, name, props, account, region):
        query_id = athena_backends[account][region].create_named_query(
            props.get("Name", name), props.get("Description", ""), props["Database"], props["QueryString"],
            props.get("WorkGroup", "primary"))
        return cls(query_id, account, region, {"NamedQueryId": query_id})

    def remove(self):
        athena_backends[self.account][self.region].named_queries.pop(self.physical_id, None)


# ---- Config, SSM -------------------------------------------------------------------------

class ConfigRule(_Resource, CloudFormationModel):
    """Through the backend's put_config_rule, as PutConfigRule (no recorder needed there)."""

    name_property = "ConfigRuleName"

    @staticmethod
    def cloudformation_type():
        return "AWS::Config::ConfigRule"

    @classmethod
    def create(cls, name, props, account, region):
        rule = {"ConfigRuleName": name, "Source": props["Source"]}
        for key in ("Description", "Scope", "MaximumExecutionFrequency"):
            if key in props:
                rule[key] = props[key]
        if "InputParameters" in props:  # an object in a template, a JSON string in the API
            params = props["InputParameters"]
            rule["InputParameters"] = params if isinstance(params, str) else json.dumps(params)
        backend = config_backends[account][region]
        backend.put_config_rule(rule, props.get("Tags"))
        stored = backend.config_rules[name]
        return cls(name, account, region, {"Arn": stored.config_rule_arn, "ConfigRuleId": stored.config_rule_id,
                                           "Compliance.Type": "INSUFFICIENT_DATA"})

    def remove(self):
        config_backends[self.account][self.region].delete_config_rule(self.physical_id)


class PatchBaseline(_Resource, CloudFormationModel):
    name_property = "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::SSM::PatchBaseline"

    @classmethod
    def create(cls, name, props, account, region):
        backend = ssm_models.ssm_backends[account][region]
        baseline_id = backend.create_patch_baseline(
            name, props.get("OperatingSystem", "WINDOWS"), props.get("GlobalFilters"), props.get("ApprovalRules"),
            props.get("ApprovedPatches"), props.get("ApprovedPatchesComplianceLevel"),
            props.get("ApprovedPatchesEnableNonSecurity"), props.get("RejectedPatches"),
            props.get("RejectedPatchesAction"), props.get("Description"), props.get("Sources"), props.get("Tags"))
        groups = list(props.get("PatchGroups") or [])
        for group in groups:
            backend.register_patch_baseline_for_patch_group(baseline_id, group)
        return cls(baseline_id, account, region, {"groups": groups})

    def remove(self):
        backend = ssm_models.ssm_backends[self.account][self.region]
        os_name = backend.baselines[self.physical_id].operating_system
        for group in self.attrs["groups"]:
            fake = backend.patch_groups.get(group)
            if fake and fake.associations.get(os_name) == self.physical_id:
                del fake.associations[os_name]
        backend.delete_patch_baseline(self.physical_id)


def register_patch_baseline_for_patch_group(self, baseline_id, patch_group):
    """A group has one baseline per OS. moto compared with the OS's *default* baseline and so
    refused the second OS's baseline for a group; refuse only another custom baseline."""
    if baseline_id not in self.baselines:
        raise ssm_models.DoesNotExistException(baseline_id)
    os_name = self.baselines[baseline_id].operating_system
    group = self.patch_groups.get(patch_group) or ssm_models.FakePatchGroup(patch_group, self.region_name)
    current = group.associations.get(os_name)
    if current in self.baselines and current != baseline_id:
        raise ssm_models.AlreadyExistsException(os_name)
    group.associations = dict(group.associations, **{os_name: baseline_id})
    self.patch_groups[patch_group] = group
    return baseline_id, patch_group


class SsmAssociation(_Resource, CloudFormationModel):
    """moto's SSM has no associations: kept here, answered by List/DescribeAssociation below."""

    @staticmethod
    def cloudformation_type():
        return "AWS::SSM::Association"

    @classmethod
    def create(cls, name, props, account, region):
        import uuid
        assoc_id = str(uuid.uuid4())
        desc = {"AssociationId": assoc_id, "Name": props["Name"], "AssociationVersion": "1",
                "AssociationName": props.get("AssociationName"), "Targets": props.get("Targets") or [],
                "ScheduleExpression": props.get("ScheduleExpression"), "Parameters": props.get("Parameters") or {},
                "Date": sim.now(), "Overview": {"Status": "Success"}}
        with _state_lock:
            _associations.setdefault((account, region), {})[assoc_id] = {k: v for k, v in desc.items() if v}
        return cls(assoc_id, account, region, {"AssociationId": assoc_id})

    def remove(self):
        with _state_lock:
            _associations.get((self.account, self.region), {}).pop(self.physical_id, None)


def list_associations(self):
    with _state_lock:
        rows = [dict(a) for a in _associations.get((self.current_account, self.region), {}).values()]
    return ActionResult({"Associations": rows})


def describe_association(self):
    from .ssm_ext import _json
    p = _json(self)
    with _state_lock:
        rows = list(_associations.get((self.current_account, self.region), {}).values())
    for row in rows:
        if row["AssociationId"] == p.get("AssociationId") or (
                not p.get("AssociationId") and row["Name"] == p.get("Name")):
            return ActionResult({"AssociationDescription": dict(row)})
    raise inventory.SyncError("AssociationDoesNotExist", "The specified association does not exist.")


class ResourceDataSync(_Resource, CloudFormationModel):
    """The same sync (and inventory files) as CreateResourceDataSync."""

    name_property = "SyncName"

    @staticmethod
    def cloudformation_type():
        return "AWS::SSM::ResourceDataSync"

    @classmethod
    def create(cls, name, props, account, region):
        dest = dict(props.get("S3Destination") or {k: props[k] for k in ("BucketName", "BucketRegion",
                                                                          "BucketPrefix", "SyncFormat",
                                                                          "KMSKeyArn") if k in props})
        # The template's names for two of the API's S3Destination fields.
        if "BucketPrefix" in dest:
            dest["Prefix"] = dest.pop("BucketPrefix")
        if "KMSKeyArn" in dest:
            dest["AWSKMSKeyARN"] = dest.pop("KMSKeyArn")
        inventory.create_sync(account, region, name, props.get("SyncType"), dest)
        return cls(name, account, region, {"SyncName": name})

    def remove(self):
        inventory.delete_sync(self.account, self.region, self.physical_id)


# ---- moto fixes ------------------------------------------------------------------------------

def _event_bus_ref(self):
    """Ref of an AWS::Events::EventBus is its name (moto returned the object, and a rule's
    EventBusName: !Ref Bus then failed with "'EventBus' object has no attribute 'split'")."""
    return self.name


def _list_defaults(original):
    """A CommaDelimitedList's Default is a list as well: moto split only passed values, so the
    default "Default,Dev,Test,Prod" reached PatchGroups as one string."""
    def load_parameters(self):
        original(self)
        for name, slot in self._template.get("Parameters", {}).items():
            kind, value = slot.get("Type", "String"), self.resolved_parameters.get(name)
            if isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
                self.resolved_parameters[name] = self._parsed_resources[name] = value.split(",")
    return load_parameters


def stack_set_accounts(org, deployment_targets):
    """The accounts a service-managed StackSet deploys to, as AWS resolves them: the accounts under
    the OUs (nested OUs too) but never the management account, with DeploymentTargets.Accounts
    applied by AccountFilterType (INTERSECTION, DIFFERENCE, UNION; NONE ignores them)."""
    ous = set(deployment_targets.get("OrganizationalUnitIds") or [])
    while True:
        children = {ou.id for ou in org.ou if ou.parent_id in ous}
        if children <= ous:
            break
        ous |= children
    management = org.org.master_account_id if org.org else None
    in_ous = [a.id for a in org.accounts if a.parent_id in ous and a.id != management]
    listed = set(deployment_targets.get("Accounts") or [])
    mode = deployment_targets.get("AccountFilterType") or "NONE"
    if mode == "INTERSECTION":
        return [a for a in in_ous if a in listed]
    if mode == "DIFFERENCE":
        return [a for a in in_ous if a not in listed]
    if mode == "UNION":
        return in_ous + sorted(listed - set(in_ous) - {management})
    return in_ous


def _stack_set_targets(original):
    def create_instances(self, accounts, regions, parameters, deployment_targets, permission_model):
        if permission_model == "SERVICE_MANAGED":
            # moto adds an OU's accounts itself (management account included): hand it accounts only.
            accounts, deployment_targets = stack_set_accounts(self.org_backend, deployment_targets), {}
        return original(self, accounts, regions, parameters, deployment_targets, permission_model)
    return create_instances


_operation_results = {}  # the caller's OperationId -> the operation moto ran for it
_operations_pending = {}  # OperationId -> threading.Event while its first request still runs
_operations_lock = threading.Lock()


def _idempotent_operation(original):
    """CreateStackInstances with the caller's OperationId runs once, as in AWS ("the operation ID
    also functions as an idempotency token"). The SDK fills one in and keeps it across its retries:
    a first attempt that outlasted the client's socket time-out on a busy machine went on creating
    the members' stacks, and its retry failed with 'Role ... already exists'. A retry now waits for
    the first request and answers with its operation."""
    def create_stack_instances(self):
        token = self._get_param("OperationId")
        if not token:
            return original(self)
        with _operations_lock:
            done = _operation_results.get(token)
            running = _operations_pending.get(token)
            if done is None and running is None:
                _operations_pending[token] = threading.Event()
        if done is not None:
            return ActionResult({"OperationId": done})
        if running is not None:
            running.wait(600)
            with _operations_lock:
                done = _operation_results.get(token)
            if done is not None:
                return ActionResult({"OperationId": done})
            return original(self)  # the first request failed: this one is a new attempt
        try:
            result = original(self)
            with _operations_lock:
                _operation_results[token] = result.result["OperationId"]
            return result
        finally:
            with _operations_lock:
                _operations_pending.pop(token).set()
    return create_stack_instances


def delete_stack_instances(self):
    """A service-managed StackSet's instances are deleted by DeploymentTargets, not Accounts
    (moto read only Accounts, so such a call deleted nothing)."""
    name, accounts = self._get_param("StackSetName"), self._get_param("Accounts", [])
    targets = self._get_params().get("DeploymentTargets")
    if targets and not accounts:
        org = self.cloudformation_backend.describe_stack_set(name).instances.org_backend
        accounts = stack_set_accounts(org, targets)
    operation = self.cloudformation_backend.delete_stack_instances(name, accounts, self._get_param("Regions", []))
    return ActionResult({"OperationId": operation.operations[-1]["OperationId"]})


def install():
    EventBus.physical_resource_id = property(_event_bus_ref)
    StackInstances.create_instances = _stack_set_targets(StackInstances.create_instances)
    CloudFormationResponse.delete_stack_instances = delete_stack_instances
    CloudFormationResponse.create_stack_instances = _idempotent_operation(
        CloudFormationResponse.create_stack_instances)
    parsing.ResourceMap.load_parameters = _list_defaults(parsing.ResourceMap.load_parameters)
    ssm_models.SimpleSystemManagerBackend.register_patch_baseline_for_patch_group = \
        register_patch_baseline_for_patch_group
    SimpleSystemManagerResponse.list_associations = list_associations
    SimpleSystemManagerResponse.describe_association = describe_association
    # The models above are new direct subclasses: drop any model list cached before they existed.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
