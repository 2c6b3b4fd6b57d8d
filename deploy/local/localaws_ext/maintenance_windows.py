"""SSM maintenance windows as the AWS sample left them: moto 5.2.1 creates, describes and
registers tasks on windows but has no UpdateMaintenanceWindow (every window reads Enabled=true)
and no GetMaintenanceWindowTask (the only call that returns a task's TaskInvocationParameters,
where the sample's Lambda payload lives). Both added here; DescribeMaintenanceWindowTasks leaves
TaskInvocationParameters out, as AWS does."""
import base64
import copy

from moto.core.responses import ActionResult
from moto.ssm.models import FakeMaintenanceWindow, FakeMaintenanceWindowTask, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from .ssm_ext import SsmError

UPDATABLE = {"Name": "name", "Description": "description", "Schedule": "schedule",
             "ScheduleTimezone": "schedule_timezone", "ScheduleOffset": "schedule_offset",
             "StartDate": "start_date", "EndDate": "end_date", "Duration": "duration", "Cutoff": "cutoff"}


def _window(response, window_id):
    window = ssm_backends[response.current_account][response.region].windows.get(window_id)
    if window is None:
        raise SsmError("DoesNotExistException", f"Maintenance window {window_id} does not exist")
    return window


def _window_json(original):
    def to_json(self):
        out = original(self)
        out["Enabled"] = getattr(self, "enabled", True)
        return out
    return to_json


def _task_json(original):
    def to_json(self):
        out = original(self)
        out.pop("TaskInvocationParameters", None)
        return out
    return to_json


def update_maintenance_window(self):
    window = _window(self, self._get_param("WindowId"))
    for key, attr in UPDATABLE.items():
        value = self._get_param(key)
        if value is not None:
            setattr(window, attr, value)
    enabled = self._get_param("Enabled")
    if enabled is not None:
        window.enabled = bool(enabled)
    out = window.to_json()
    out.pop("Description", None)
    return ActionResult(out)


def get_maintenance_window_task(self):
    window = _window(self, self._get_param("WindowId"))
    task_id = self._get_param("WindowTaskId")
    task = window.tasks.get(task_id)
    if task is None:
        raise SsmError("DoesNotExistException", f"Maintenance window task {task_id} does not exist")
    invocation = copy.deepcopy(task.task_invocation_parameters)
    payload = (invocation or {}).get("Lambda", {}).get("Payload")
    if isinstance(payload, str):  # kept as sent (base64); the serializer encodes blobs itself
        invocation["Lambda"]["Payload"] = base64.b64decode(payload)
    return ActionResult({
        "WindowId": window.id, "WindowTaskId": task.window_task_id, "Targets": task.targets,
        "TaskArn": task.task_arn, "ServiceRoleArn": task.service_role_arn, "TaskType": task.task_type,
        "TaskParameters": task.task_parameters, "TaskInvocationParameters": invocation,
        "Priority": task.priority, "MaxConcurrency": task.max_concurrency, "MaxErrors": task.max_errors,
        "Name": task.name, "Description": task.description})


def install():
    FakeMaintenanceWindow.to_json = _window_json(FakeMaintenanceWindow.to_json)
    FakeMaintenanceWindowTask.to_json = _task_json(FakeMaintenanceWindowTask.to_json)
    SimpleSystemManagerResponse.update_maintenance_window = update_maintenance_window
    SimpleSystemManagerResponse.get_maintenance_window_task = get_maintenance_window_task
