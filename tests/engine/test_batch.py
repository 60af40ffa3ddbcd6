"""Batching: compatible requests share a pipeline call and still match solo runs."""

import numpy as np
from PIL import Image

from engine.generate import GenerationResult, generate, generate_batch
from engine.progress import Cancelled
from engine.requests import GenerationRequest, resolve_request

SIZE = 64


def req(prompt: str, seed: int, **changes) -> GenerationRequest:
    values = {
        "model_id": "darkroom-tiny",
        "prompt": prompt,
        "width": SIZE,
        "height": SIZE,
        "inference_steps": 3,
        "seed": seed,
        **changes,
    }
    return GenerationRequest(**values)


def assert_same_images(batched: GenerationResult, solo: GenerationResult) -> None:
    # Batch and solo agree within ~3e-6 in float; 8-bit rounding can then move
    # a few pixels by one level.
    assert [i.seed for i in batched.images] == [i.seed for i in solo.images]
    for a, b in zip(batched.images, solo.images, strict=True):
        diff = np.abs(np.asarray(a.image, np.int16) - np.asarray(b.image, np.int16))
        assert diff.max() <= 1
        assert (diff > 0).mean() < 0.01


def test_compatible_requests_batch_and_equal_their_solo_runs(pipes, catalog) -> None:
    # given three compatible requests with their own prompts, negatives and
    # seeds, and one with other steps
    requests = [
        req("a cat", 1),
        req("a red house", 50, num_outputs=2, negative_prompt="blue"),
        req("a tree at night", 9, negative_prompt="dog"),
        req("a cat", 1, inference_steps=4),
    ]
    steps = [[] for _ in requests]
    # when they run as a batch
    results = generate_batch(
        pipes,
        [resolve_request(catalog, r) for r in requests],
        on_steps=[lambda s, t, p, log=log: log.append(s) for log in steps],
    )
    # then each equals its solo run and got its own progress
    for request, result in zip(requests, results, strict=True):
        assert isinstance(result, GenerationResult)
        assert_same_images(result, generate(pipes, resolve_request(catalog, request)))
    assert steps == [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3, 4]]
    # and the two with a negative prompt shared one pipeline call
    assert results[1].seconds == results[2].seconds
    assert results[0].seconds != results[1].seconds != results[3].seconds


def test_a_cancelled_member_leaves_the_others_intact(pipes, catalog) -> None:
    # given three compatible requests; the middle one is cancelled at step 1
    requests = [req("a cat", 1), req("a dog", 2), req("a sea", 3)]
    steps = [[] for _ in requests]
    stops = [None, lambda: len(steps[1]) >= 1, None]
    # when they run as a batch
    results = generate_batch(
        pipes,
        [resolve_request(catalog, r) for r in requests],
        on_steps=[lambda s, t, p, log=log: log.append(s) for log in steps],
        should_stops=stops,
    )
    # then the cancelled one stopped hearing at once and has no images
    assert isinstance(results[1], Cancelled)
    assert results[1].completed_steps == 1
    assert steps[1] == [1]
    # and the others finished, equal to their solo runs
    assert steps[0] == steps[2] == [1, 2, 3]
    for i in (0, 2):
        assert_same_images(
            results[i], generate(pipes, resolve_request(catalog, requests[i]))
        )


def test_an_img2img_member_runs_on_its_own(pipes, catalog) -> None:
    # given two text-to-image requests and an img2img one
    init = Image.new("RGB", (SIZE, SIZE), (0, 90, 200))
    requests = [
        req("a cat", 1),
        req("a dog", 2),
        req("a cat", 1, init_image=init, prompt_strength=0.7),
    ]
    # when they run as a batch
    results = generate_batch(pipes, [resolve_request(catalog, r) for r in requests])
    # then every one ran, the img2img one alone with its own step count
    assert all(isinstance(r, GenerationResult) for r in results)
    assert results[2].request.total_steps == 2
    assert_same_images(
        results[2], generate(pipes, resolve_request(catalog, requests[2]))
    )


def test_large_batches_are_split_by_image_count(pipes, catalog) -> None:
    # given three compatible 2-image requests and room for 4 images per call
    requests = [req("a cat", seed, num_outputs=2) for seed in (1, 10, 20)]
    # when they run as a batch
    results = generate_batch(
        pipes, [resolve_request(catalog, r) for r in requests], max_batch_images=4
    )
    # then the first two shared a call and the third ran in another
    assert results[0].seconds == results[1].seconds != results[2].seconds
    assert_same_images(
        results[2], generate(pipes, resolve_request(catalog, requests[2]))
    )
