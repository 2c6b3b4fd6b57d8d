"""S3 bucket policies with their conditions. moto applies every statement of a bucket policy and
ignores Condition, so hub.yaml's "deny unless aws:SecureTransport" statement denied everything.
Here a statement applies only when its conditions hold for the request, with the one condition
key the local AWS can know: aws:SecureTransport, true (the local endpoint stands in for AWS's TLS
endpoints). A statement with any other condition key does not apply (an Allow grants nothing, a
Deny denies nothing), since the local AWS cannot know, e.g., the caller's organization."""
import json

from moto.iam.access_control import IAMPolicy
from moto.s3.models import FakeBucket

CONTEXT = {"aws:securetransport": "true"}
_original = FakeBucket.get_permission


def _holds(condition):
    for operator, keys in (condition or {}).items():
        for key, wanted in keys.items():
            actual = CONTEXT.get(key.lower())
            if actual is None:
                return False
            values = [str(v).lower() for v in (wanted if isinstance(wanted, list) else [wanted])]
            if operator in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
                if actual not in values:
                    return False
            elif operator in ("StringNotEquals",):
                if actual in values:
                    return False
            else:
                return False
    return True


def get_permission(self, action, resource):
    if self.policy is None:
        return _original(self, action, resource)
    policy = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [s for s in statements if _holds(s.get("Condition"))]
    if len(kept) == len(statements):
        return _original(self, action, resource)
    return IAMPolicy(json.dumps(dict(policy, Statement=kept))).is_action_permitted(action, resource)


def install():
    FakeBucket.get_permission = get_permission
