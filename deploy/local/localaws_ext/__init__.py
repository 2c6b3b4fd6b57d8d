"""Extensions that make moto answer what patchpilot needs (see ../README.md)."""


def install(settings):
    """Register every extension on moto's classes; call before the server starts."""
    from . import sim
    sim.SETTINGS.update(settings)
    from . import (ami_ext, asg_ext, athena_ext, cfn_ext, config_ext, dynamodb_ext, events_ext, glue_ext, inventory,
                   maintenance_windows, parameter_events, s3_ext, ssm_ext)
    for module in (ssm_ext, parameter_events, asg_ext, ami_ext, dynamodb_ext, config_ext, inventory, events_ext,
                   cfn_ext, s3_ext, athena_ext, glue_ext, maintenance_windows):
        module.install()
