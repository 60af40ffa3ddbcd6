"""Build the tiny random-weight pipelines used offline, in tests and in development.

No real weights can be fetched on build machines, so the dev model is built in
code under a fixed seed: SD-1.5 or SDXL shapes at about 1 M parameters. Its
output is noise, but it runs every code path of a real model, including
`save_pretrained` and `from_pretrained`.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

# Imported from their modules, not the `diffusers` root, whose lazy exports
# type-check as untyped placeholders.
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import (
    StableDiffusionPipeline,
)
from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import (
    StableDiffusionXLPipeline,
)
from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
)

# The tokenizer knows these words whole; anything else falls back to bytes.
WORDS = (
    *("a", "photo", "of", "an", "the", "cat", "dog", "red", "blue", "green"),
    *("portrait", "landscape", "city", "night", "sunset", "forest", "mountain"),
    *("sea", "painting", "house", "car", "tree", "flower", "woman", "man"),
)
TEXT_WIDTH = 32  # hidden size of each tiny text encoder
BUILDERS = ("tiny-sd15", "tiny-sdxl")


def _byte_chars() -> list[str]:
    """Return CLIP's byte-to-unicode table, in byte order."""
    bs = [*range(33, 127), *range(161, 173), *range(174, 256)]
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def build_tokenizer() -> CLIPTokenizer:
    """Build a small byte-level BPE CLIP tokenizer with a vocabulary made in code."""
    chars = _byte_chars()
    vocab = [*chars, *(c + "</w>" for c in chars)]
    merges: list[str] = []
    for word in WORDS:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merges.append(f"{parts[0]} {parts[1]}")
            parts = [parts[0] + parts[1], *parts[2:]]
            if parts[0] not in vocab:
                vocab.append(parts[0])
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file, merges_file = Path(tmp, "vocab.json"), Path(tmp, "merges.txt")
        ids = {token: i for i, token in enumerate(vocab)}
        vocab_file.write_text(json.dumps(ids), encoding="utf-8")
        merges_file.write_text(
            "#version: 0.2\n" + "\n".join(dict.fromkeys(merges)) + "\n",
            encoding="utf-8",
        )
        return CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)


def _text_config(vocab_size: int) -> CLIPTextConfig:
    return CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=TEXT_WIDTH,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=77,
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
        projection_dim=TEXT_WIDTH,  # used by the SDXL second encoder only
    )


def _vae(scaling_factor: float) -> AutoencoderKL:
    # Four blocks give the x8 latent factor of real SD VAEs.
    vae: AutoencoderKL = AutoencoderKL(
        block_out_channels=(8, 16, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
        scaling_factor=scaling_factor,
    )
    return vae  # typed here: register_to_config makes the call return Any


def _scheduler() -> EulerDiscreteScheduler:
    # SD-1.5's own scheduler config, so swaps behave as they would on a real model.
    scheduler: EulerDiscreteScheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        timestep_spacing="leading",
    )
    return scheduler


def _unet(cross_attention_dim: int, **extra: object) -> UNet2DConditionModel:
    unet: UNet2DConditionModel = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=8,
        norm_num_groups=8,
        **extra,
    )
    return unet


def build_tiny_sd15(seed: int = 0) -> StableDiffusionPipeline:
    """Build a seeded SD-1.5-shaped pipeline of about 1.3 M random parameters."""
    tokenizer = build_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = _unet(TEXT_WIDTH)
        vae = _vae(0.18215)
        text_encoder = CLIPTextModel(_text_config(len(tokenizer)))
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        # diffusers annotates the scheduler as an enum and optional parts as
        # required; these are the values its own tests pass.
        scheduler=_scheduler(),  # type: ignore[arg-type]
        safety_checker=None,  # type: ignore[arg-type]
        feature_extractor=None,  # type: ignore[arg-type]
        requires_safety_checker=False,
    )


def build_tiny_sdxl(seed: int = 0) -> StableDiffusionXLPipeline:
    """Build a seeded SDXL-shaped pipeline: two text encoders, size conditioning."""
    tokenizer = build_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # Two 32-wide encoders concatenate to 64; the added embedding takes the
        # 32-wide pooled text plus six size values of 8 each.
        unet = _unet(
            2 * TEXT_WIDTH,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=TEXT_WIDTH + 6 * 8,
        )
        vae = _vae(0.13025)
        text_encoder = CLIPTextModel(_text_config(len(tokenizer)))
        text_encoder_2 = CLIPTextModelWithProjection(_text_config(len(tokenizer)))
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_scheduler(),  # type: ignore[arg-type]  # annotated as an enum
    )


def ensure_tiny_model(path: Path, builder: str = "tiny-sd15", seed: int = 0) -> Path:
    """Build and save the tiny model at `path` unless a saved model is already there.

    Args:
        path: Folder for the diffusers model; created with its parents.
        builder: "tiny-sd15" or "tiny-sdxl".
        seed: Seed for the random weights.

    Returns:
        The folder, which then holds a complete `model_index.json` model.
    """
    if (path / "model_index.json").exists():
        return path
    if builder not in BUILDERS:
        raise ValueError(
            f"builder must be one of {', '.join(BUILDERS)}; got {builder!r}"
        )
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(
            f"{path} holds files but no model_index.json; remove it to rebuild"
        )
    build = build_tiny_sd15 if builder == "tiny-sd15" else build_tiny_sdxl
    pipe: DiffusionPipeline = build(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Save beside the target and rename, so a crash never leaves half a model
    # that a later start would take for a whole one.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        pipe.save_pretrained(tmp)
        if path.exists():
            path.rmdir()  # empty, checked above
        os.replace(tmp, path)
    except OSError:
        if not (path / "model_index.json").exists():
            raise
        # Another process finished the same build first; its copy is as good.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
