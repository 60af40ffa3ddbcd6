"""CPU thread settings: torch's thread counts and OpenMP's wait policy."""

import os
import subprocess
import sys

import pytest
import torch

from engine.threads import configure_threads, default_threads


@pytest.mark.parametrize(("cores", "threads"), [(None, 1), (1, 1), (2, 2), (16, 16)])
def test_the_default_takes_every_usable_core_and_never_drops_to_zero(cores, threads):
    # given a machine's core count (None when Python cannot tell)
    # when the default is chosen, then torch may use every core (idle threads
    # sleep, so they leave cores to others as soon as they wait)
    assert default_threads(cores) == threads


def test_configuring_sets_torchs_thread_count(monkeypatch):
    # given a process that has imported torch already, as this one has
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # restored after the test
    before = torch.get_num_threads()
    try:
        # when two threads are configured
        in_time = configure_threads(2)
        # then torch uses two, and the caller learns the policy came too late
        assert torch.get_num_threads() == 2
        assert in_time is False
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    finally:
        torch.set_num_threads(before)


def test_zero_threads_are_refused():
    with pytest.raises(ValueError, match="threads must be at least 1; got 0"):
        configure_threads(0)


def test_configured_before_torch_loads_the_openmp_threads_wait_passively():
    # given a fresh interpreter that configures threads before importing torch,
    # with libgomp asked to print its settings as it starts
    script = (
        "from engine.threads import configure_threads\n"
        "print(configure_threads(1))\n"
        "import torch\n"
        "print(torch.get_num_threads(), torch.get_num_interop_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    env["OMP_DISPLAY_ENV"] = "VERBOSE"
    # when it runs
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    # then torch's libgomp never spins (0, not the default 300000) and
    # torch runs one intra-op and one inter-op thread
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "1", "1"]
    assert "GOMP_SPINCOUNT = '0'" in done.stderr
    assert "GOMP_SPINCOUNT = '300000'" not in done.stderr
