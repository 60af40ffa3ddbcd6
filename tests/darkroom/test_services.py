"""The composition root's choices: how many CPU threads torch gets."""

import os

from core.settings import Settings
from darkroom.services import engine_threads


def test_the_torch_thread_setting_is_taken_as_given() -> None:
    # given DARKROOM_TORCH_THREADS=3
    settings = Settings(torch_threads=3)
    # when the engine's threads are chosen, then it gets three
    assert engine_threads(settings) == 3


def test_by_default_torch_gets_one_thread_per_usable_core() -> None:
    # given the automatic default (0) on this machine
    cores = len(os.sched_getaffinity(0))
    # when the engine's threads are chosen, then it gets every core it may use
    assert engine_threads(Settings()) == cores
