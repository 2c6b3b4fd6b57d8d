"""The local Athena's tests: a real Trino server (downloaded once into ~/.m2, about 820 MB), so
they run in the acceptance profile, not with deploy/local/tests. The helpers are tests/conftest.py's."""
import importlib.util
import os
import sys

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
_spec = importlib.util.spec_from_file_location("local_aws_conftest", os.path.join(TESTS, "conftest.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
HUB, free_port, start_launcher, stop = _helpers.HUB, _helpers.free_port, _helpers.start_launcher, _helpers.stop
sys.path.insert(0, TESTS)  # test_cfn's template helpers
