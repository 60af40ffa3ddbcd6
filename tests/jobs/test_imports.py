"""The API side of jobs never loads torch; the worker side loads it only to run."""

import subprocess
import sys


def test_importing_the_job_modules_does_not_load_torch():
    # given a fresh interpreter
    code = (
        "import sys\n"
        "import jobs.submission, jobs.queue, jobs.events, jobs.sweeper\n"
        "import jobs.worker.tasks, jobs.worker.arq_worker, jobs.worker.inprocess\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    # when it imports every job module the API or the worker starts from
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # then no torch-loading module came with them
    assert done.stdout.strip() == "[]"
