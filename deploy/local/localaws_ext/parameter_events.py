"""SSM Parameter Store: a `Parameter Store Change` event on the account's default bus for each
change, as AWS sends it (source aws.ssm; detail operation Create, Update, Delete or
LabelParameterVersion, name, type, description; resources the parameter's ARN).

Hooked on moto's SSM backend, not its API responses, so parameters a CloudFormation stack
creates or deletes (AWS::SSM::Parameter) send their events too. A hook never fails the call."""
import json
import sys

from moto.events.models import events_backends
from moto.ssm.models import SimpleSystemManagerBackend

from . import sim


def _latest(backend, name):
    versions = backend._parameters.get(backend._parameters.normalize_name(name)) or []
    return versions[-1] if versions else None


def _arn(backend, name):
    return f"arn:aws:ssm:{backend.region_name}:{backend.account_id}:parameter/{name.lstrip('/')}"


def detail(operation, name, parameter):
    """The event's detail, keys in AWS's order; `description` only when the parameter has one."""
    out = {"operation": operation, "name": name, "type": parameter.parameter_type if parameter else "String"}
    if parameter is not None and parameter.description:
        out["description"] = parameter.description
    return out


def send(backend, operation, name, parameter):
    try:
        events_backends[backend.account_id][backend.region_name].put_events([{
            "Source": "aws.ssm", "DetailType": "Parameter Store Change",
            "Detail": json.dumps(detail(operation, name, parameter)),
            "Resources": [_arn(backend, name)], "Time": sim.iso(sim.now())}])
    except Exception as e:  # the change stands; say on stderr that its event did not go
        print(f"localaws: parameter event {operation} {name} not sent: {e}", file=sys.stderr)


def _first(name, a, kw):
    """The first argument, by name or position (CloudFormation models pass keywords)."""
    return kw[name] if name in kw else a[0]


def _put_parameter(original):
    def hooked(self, *a, **kw):
        name = _first("name", a, kw)
        existed = _latest(self, name) is not None
        out = original(self, *a, **kw)
        send(self, "Update" if existed else "Create", name, out)
        return out
    return hooked


def _delete_parameter(original):
    def hooked(self, *a, **kw):
        name = _first("name", a, kw)
        before = _latest(self, name)
        out = original(self, *a, **kw)
        send(self, "Delete", name, before)
        return out
    return hooked


def _delete_parameters(original):
    def hooked(self, *a, **kw):
        names = _first("names", a, kw)
        before = {n: _latest(self, n) for n in names}
        deleted = original(self, *a, **kw)
        for n in deleted:
            send(self, "Delete", n, before.get(n))
        return deleted
    return hooked


def _label_parameter_version(original):
    def hooked(self, *a, **kw):
        name = _first("name", a, kw)
        out = original(self, *a, **kw)
        send(self, "LabelParameterVersion", name, _latest(self, name))
        return out
    return hooked


def install():
    cls = SimpleSystemManagerBackend
    cls.put_parameter = _put_parameter(cls.put_parameter)
    cls.delete_parameter = _delete_parameter(cls.delete_parameter)
    cls.delete_parameters = _delete_parameters(cls.delete_parameters)
    cls.label_parameter_version = _label_parameter_version(cls.label_parameter_version)
