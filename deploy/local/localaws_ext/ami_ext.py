"""EC2 behaviour the AMI pipeline relies on that AWS has and moto 5.2.1 lacks.

- RunInstances with a ClientToken is idempotent: the same token in the same account and
  region answers the first reservation instead of launching again (moto ignores the token).
- CreateImage: a name already used by an image of the account and region is
  `InvalidAMIName.Duplicate` (moto registers a second image); TagSpecifications for `snapshot`
  tag the image's snapshots (moto raises NotImplementedError: HTTP 500); an instance whose sim
  facts say `imageFails` gives an image in state `failed`.
- CreateLaunchTemplateVersion: `SourceVersion` copies that version's data under the given data
  (moto keeps only the given data); a repeated `ClientToken` answers the version it created.
- DeleteLaunchTemplateVersions (moto: HTTP 500). Version numbers are never reused, as in AWS
  (moto numbers and finds versions by list position).
"""
import copy
import threading

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidLaunchTemplateVersionNotFound
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateVersion
from moto.ec2.responses import EC2Response

from . import sim

_lock = threading.Lock()
_reservations = {}   # (account, region, client token) -> moto Reservation
_versions = {}       # (account, region, template id, client token) -> LaunchTemplateVersion

_original_run_instances = EC2Response.run_instances


def run_instances(self):
    token = self._get_param("ClientToken")
    if not token:
        return _original_run_instances(self)
    key = (self.current_account, self.region, token)
    with _lock:
        known = _reservations.get(key)
        if known is not None:
            return ActionResult(known)
        result = _original_run_instances(self)
        _reservations[key] = result.result
        return result


def create_image(self):
    name = self._get_param("Name")
    instance_id = self._get_param("InstanceId")
    specs = self._get_param("TagSpecifications", []) or []
    backend = self.ec2_backend
    with _lock:
        clash = next((a for a in backend.amis.values()
                      if a.name == name and a.owner_id == self.current_account), None)
        if clash is not None:
            raise EC2ClientError("InvalidAMIName.Duplicate",
                                 f"AMI name {name} is already in use by AMI {clash.id}")
        self.error_on_dryrun()
        image_specs = [s for s in specs if s.get("ResourceType") == "image"]
        ami = backend.create_image(instance_id, name, self._get_param("Description", ""),
                                   tag_specifications=image_specs)
    for spec in specs:
        if spec.get("ResourceType") == "snapshot":
            for tag in spec.get("Tags", []):
                ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
    if sim.facts(instance_id).get("imageFails"):
        ami.state = "failed"
    return ActionResult({"ImageId": ami.id})


# ---- launch template versions: stable numbers, SourceVersion, ClientToken, deletion ----------

def _create_version(self, data, description):
    self._next_number = max(getattr(self, "_next_number", 0), max((v.number for v in self.versions), default=0)) + 1
    version = LaunchTemplateVersion(self, self._next_number, data, description)
    self.versions.append(version)
    return version


def _get_version(self, num):
    if str(num).lower() == "$latest":
        return self.versions[-1]
    if str(num).lower() == "$default":
        return self.default_version()
    found = next((v for v in self.versions if str(v.number) == str(num)), None)
    if found is None:
        raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)
    return found


def _default_version(self):
    return next(v for v in self.versions if v.number == self.default_version_number)


def _template(self):
    name = self._get_param("LaunchTemplateName")
    if name:
        return self.ec2_backend.get_launch_template_by_name(name)
    return self.ec2_backend.get_launch_template(self._get_param("LaunchTemplateId"))


def _merge(base, top):
    out = copy.deepcopy(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def create_launch_template_version(self):
    template = _template(self)
    token = self._get_param("ClientToken")
    data = self._get_param("LaunchTemplateData", {}) or {}
    source = self._get_param("SourceVersion")
    self.error_on_dryrun()
    with _lock:
        key = (self.current_account, self.region, template.id, token)
        version = _versions.get(key) if token else None
        if version is None:
            if source:
                data = _merge(template.get_version(source).data, data)
            version = template.create_version(data, self._get_param("VersionDescription"))
            if token:
                _versions[key] = version
    return ActionResult({"LaunchTemplateVersion": {
        "CreateTime": version.create_time,
        "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
        "DefaultVersion": template.is_default(version),
        "LaunchTemplateData": version.data,
        "LaunchTemplateId": template.id,
        "LaunchTemplateName": template.name,
        "VersionDescription": version.description,
        "VersionNumber": version.number,
    }})


def delete_launch_template_versions(self):
    template = _template(self)
    self.error_on_dryrun()
    deleted, failed = [], []
    with _lock:
        for v in self._get_param("Versions", []) or []:
            row = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name, "VersionNumber": int(v)}
            found = next((x for x in template.versions if str(x.number) == str(v)), None)
            if found is None:
                failed.append(dict(row, ResponseError={"Code": "launchTemplateVersionDoesNotExist",
                                                       "Message": f"The specified version {v} does not exist"}))
            elif template.is_default(found):
                failed.append(dict(row, ResponseError={"Code": "launchTemplateVersionCannotBeDefault",
                                                       "Message": "Cannot delete the default version of a launch template"}))
            else:
                template.versions.remove(found)
                deleted.append(row)
    return ActionResult({"SuccessfullyDeletedLaunchTemplateVersions": deleted,
                         "UnsuccessfullyDeletedLaunchTemplateVersions": failed})


def install():
    EC2Response.run_instances = run_instances
    EC2Response.create_image = create_image
    EC2Response.create_launch_template_version = create_launch_template_version
    EC2Response.delete_launch_template_versions = delete_launch_template_versions
    LaunchTemplate.create_version = _create_version
    LaunchTemplate.get_version = _get_version
    LaunchTemplate.default_version = _default_version
