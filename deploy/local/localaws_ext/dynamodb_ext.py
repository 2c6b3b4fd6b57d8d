"""DynamoDB writes one at a time, as DynamoDB's conditional writes are atomic per item.

moto's DynamoDB checks a ConditionExpression and then writes, with no lock between the two:
under the threaded server, two concurrent UpdateItem calls with the same condition
(`#st IN (:discovering, :sent)`) could both succeed, so a step delivered twice at once did its
one-time work twice (seen as a run completing early after a restart). Every write operation is
serialized here; reads are left concurrent."""
import functools
import threading

from moto.dynamodb.responses import DynamoHandler

WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
_lock = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)
    return call


def install():
    for name in WRITES:
        setattr(DynamoHandler, name, _serialized(getattr(DynamoHandler, name)))
