"""Generation on the tiny model: seeds, progress, cancel, previews, schedulers, img2img."""

import numpy as np
import pytest
from PIL import Image

from engine.generate import generate
from engine.progress import Cancelled, StepHook, StepListener, request_interrupt
from engine.requests import GenerationRequest, resolve_request

SIZE = 64  # the tiny model's smallest size; as in conftest


def req(**changes) -> GenerationRequest:
    values = {
        "model_id": "darkroom-tiny",
        "prompt": "a photo of a cat",
        "width": SIZE,
        "height": SIZE,
        "inference_steps": 3,
        "seed": 7,
        **changes,
    }
    return GenerationRequest(**values)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def assert_same_image(a: Image.Image, b: Image.Image) -> None:
    # Batched and solo runs agree within ~3e-6 in float; after rounding to
    # 8 bits a few pixels may then differ by one level, never more.
    diff = np.abs(pixels(a) - pixels(b))
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.01


def test_the_same_seed_gives_bit_identical_images(pipes, catalog) -> None:
    # given one request
    request = req(num_outputs=2)
    # when it runs twice in one process
    first = generate(pipes, resolve_request(catalog, request))
    second = generate(pipes, resolve_request(catalog, request))
    # then every image is bit-identical
    for a, b in zip(first.images, second.images, strict=True):
        assert np.array_equal(pixels(a.image), pixels(b.image))
    assert [image.seed for image in first.images] == [7, 8]
    assert first.images[0].image.size == (SIZE, SIZE)
    assert first.images[0].image.mode == "RGB"


def test_image_i_of_a_request_equals_a_single_run_with_seed_plus_i(
    pipes, catalog
) -> None:
    # given a three-image request with seed 100
    batch = generate(pipes, resolve_request(catalog, req(seed=100, num_outputs=3)))
    # when each image is made alone with seed 100 + i
    singles = [
        generate(pipes, resolve_request(catalog, req(seed=100 + i))) for i in range(3)
    ]
    # then image i matches the single run and reports that seed
    for i, single in enumerate(singles):
        assert batch.images[i].index == i
        assert batch.images[i].seed == 100 + i
        assert_same_image(batch.images[i].image, single.images[0].image)


def test_on_step_fires_once_per_step_for_txt2img(pipes, catalog) -> None:
    # given a 4-step request and a recording callback
    calls = []
    # when it runs
    generate(
        pipes,
        resolve_request(catalog, req(inference_steps=4)),
        on_step=lambda *a: calls.append(a),
    )
    # then each step is reported once, in order, without previews
    assert calls == [(1, 4, None), (2, 4, None), (3, 4, None), (4, 4, None)]


def test_img2img_reports_only_the_steps_strength_runs(pipes, catalog) -> None:
    # given an init image of another size, 10 steps and strength 0.3
    image = Image.new("RGB", (80, 48), (200, 30, 30))
    steps = []
    # when it runs
    result = generate(
        pipes,
        resolve_request(
            catalog, req(inference_steps=10, prompt_strength=0.3, init_image=image)
        ),
        on_step=lambda step, total, _: steps.append((step, total)),
    )
    # then 3 steps are reported and the output has the requested size
    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert result.images[0].image.size == (SIZE, SIZE)
    assert result.request.total_steps == 3


def test_cancel_at_step_two_stops_within_one_step(pipes, catalog) -> None:
    # given a 20-step request whose cancel flag is raised at step 2
    steps = []
    # when it runs
    with pytest.raises(Cancelled) as err:
        generate(
            pipes,
            resolve_request(catalog, req(inference_steps=20)),
            on_step=lambda step, total, _: steps.append(step),
            should_stop=lambda: len(steps) >= 2,
        )
    # then it stopped after at most one more step
    assert len(steps) <= 3
    assert err.value.completed_steps == len(steps)


def test_a_request_cancelled_before_it_starts_runs_no_step(pipes, catalog) -> None:
    # given a cancel flag already raised
    steps = []
    # when the request runs
    with pytest.raises(Cancelled) as err:
        generate(
            pipes,
            resolve_request(catalog, req()),
            steps.append,
            should_stop=lambda: True,
        )
    # then no step ran
    assert err.value.completed_steps == 0
    assert steps == []


def test_previews_come_every_n_steps_and_on_the_last(pipes, catalog) -> None:
    # given preview_every=2 over 5 steps
    previews = {}
    # when the request runs
    generate(
        pipes,
        resolve_request(catalog, req(inference_steps=5, preview_every=2)),
        on_step=lambda step, _, preview: previews.update({step: preview}),
    )
    # then steps 2, 4 and 5 carry an RGB preview at 1/8 of the output size
    assert [s for s, p in previews.items() if p is not None] == [2, 4, 5]
    assert previews[5].size == (SIZE // 8, SIZE // 8)
    assert previews[5].mode == "RGB"


def test_the_step_hook_interrupts_only_when_every_listener_cancelled(
    pipes, catalog
) -> None:
    # given the loaded pipeline and a hook serving two requests, one cancelled
    pipe = pipes.get(catalog.model("darkroom-tiny")).text2img
    pipe._num_timesteps = 4
    stopped, running = StepListener(slice(0, 1)), StepListener(slice(1, 2))
    stopped.should_stop = lambda: True
    hook = StepHook(
        [stopped, running], total=4, family=catalog.model("darkroom-tiny").family
    )
    pipe._interrupt = False
    # when one step finishes
    hook(pipe, 0, None, {})
    # then the call goes on for the other request
    assert stopped.cancelled
    assert not pipe.interrupt
    assert running.completed_steps == 1
    # and when the other is cancelled too, the pipeline is told to stop
    running.should_stop = lambda: True
    hook(pipe, 1, None, {})
    assert pipe.interrupt
    pipe._interrupt = False


def test_request_interrupt_sets_the_flag_diffusers_loops_read(tiny_pipe) -> None:
    # given a pipeline that is not interrupted
    tiny_pipe._interrupt = False
    # when the wrapper is called
    request_interrupt(tiny_pipe)
    # then the pipeline's public view of the flag is set
    assert tiny_pipe.interrupt is True
    tiny_pipe._interrupt = False
