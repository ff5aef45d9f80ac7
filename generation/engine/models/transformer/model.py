"""A decoder-only Transformer over Performance events (nanoGPT-style: pre-norm blocks, tied embeddings), with rotary
position attention and a key/value cache for sampling.

Rotary positions make attention depend on how far apart two tokens are, not on where they are, so the sampler's
cache (preallocated, a ring once full) keeps the last `context` tokens' keys and values and goes on for as long as
needed (a sliding window that never recomputes). One code path for CPU and GPU. Shapes: B batch, T new tokens,
S cached + new tokens, H heads, D head size, C = d_model, V = vocabulary.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

from generation.engine.models.transformer.spec import TransformerConfig, config_from_dict


class Dense(nn.Module):
    """x @ weight + bias with the weight stored (in, out): one addmm on a contiguous weight, ~2x faster than
    nn.Linear's transposed one for the sampler's single-token steps on a CPU (same cost in training)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., in) -> (..., out)
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class KVCache:
    """Keys (already rotated) and values of the tokens seen so far, per layer, in preallocated buffers
    (L, B, H, capacity, D). Once full it is a ring: a new token overwrites the oldest one's slot. Attention of one new
    token ignores the slots' order, and rotary keys carry their own positions, so the ring attends to exactly the
    last ``capacity`` tokens without moving any memory."""

    def __init__(self, config: TransformerConfig, batch: int = 1, *, device: torch.device | str = "cpu",
                 capacity: int | None = None) -> None:
        head_size = config.d_model // config.n_heads
        self.capacity = capacity or config.context
        shape = (config.n_layers, batch, config.n_heads, self.capacity, head_size)
        self.keys = torch.zeros(shape, device=device)
        self.values = torch.zeros(shape, device=device)
        self.length = 0  # tokens seen (the next token's position)

    def write(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Store k, v (B, H, T, D) of the tokens at positions length..length+T-1; return the keys and values to
        attend to (B, H, S, D) and how many of them precede the new ones (for the causal mask)."""
        t = k.shape[2]
        if t == 1:
            slot = self.length % self.capacity
            self.keys[layer, :, :, slot] = k[:, :, 0]
            self.values[layer, :, :, slot] = v[:, :, 0]
            n = min(self.length + 1, self.capacity)
            return self.keys[layer, :, :, :n], self.values[layer, :, :, :n], n - 1
        if self.length + t > self.capacity:
            raise ValueError(f"{t} tokens at once after {self.length} overflow the cache of {self.capacity}")
        self.keys[layer, :, :, self.length:self.length + t] = k
        self.values[layer, :, :, self.length:self.length + t] = v
        end = self.length + t
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end], self.length


def rotary_table(positions: torch.Tensor, head_size: int, base: float) -> torch.Tensor:
    """positions (T,) -> unit complex numbers (T, 1, D/2): the rotation of each channel pair at each position."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_size, 2, device=positions.device, dtype=torch.float32)
                               / head_size))  # (D/2,)
    angles = positions.to(torch.float32)[:, None] * inv_freq[None, :]  # (T, D/2)
    return torch.polar(torch.ones_like(angles), angles)[:, None, :]


def apply_rotary(x: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """x (B, T, N, D) real, channels in adjacent pairs -> the same with every pair rotated (a complex product)."""
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))  # (B, T, N, D/2)
    return torch.view_as_real(pairs * rotation).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.head_size = config.d_model // config.n_heads
        self.qkv = Dense(config.d_model, 3 * config.d_model)
        self.proj = Dense(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, rotation: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        qkv = self.qkv(x)  # (B, T, 3C)
        qk = apply_rotary(qkv[..., :2 * c].reshape(b, t, 2 * self.n_heads, self.head_size), rotation)
        q = qk[:, :, :self.n_heads].transpose(1, 2)  # (B, H, T, D)
        k = qk[:, :, self.n_heads:].transpose(1, 2)
        v = qkv[..., 2 * c:].reshape(b, t, self.n_heads, self.head_size).transpose(1, 2)
        mask, causal = None, t > 1
        if cache is not None:
            k, v, before = cache.write(layer, k, v)  # (B, H, S, D): cached and new
            if t > 1 and before > 0:  # new token i sees the cached ones and the new ones up to itself
                mask = torch.ones(t, before + t, dtype=torch.bool, device=x.device).tril(diagonal=before)
                causal = False
        y = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                                    dropout_p=self.dropout if self.training else 0.0)  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(b, t, c)
        return functional.dropout(self.proj(y), self.dropout, self.training)


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = Attention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        # tanh-approximate GELU (GPT-2's): ~6x cheaper than the exact erf on a CPU for one token
        self.mlp = nn.Sequential(Dense(config.d_model, hidden), nn.GELU(approximate="tanh"),
                                 Dense(hidden, config.d_model), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor, rotation: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), rotation, cache, layer)
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled down with depth
            if name.endswith(("attn.proj.weight", "mlp.2.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, Dense):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def new_cache(self, batch: int = 1) -> KVCache:
        return KVCache(self.config, batch, device=self.embed.weight.device)

    def forward(self, tokens: torch.Tensor, *, cache: KVCache | None = None, start: int = 0) -> torch.Tensor:
        """tokens (B, T) int64 -> logits (B, T, V). With ``cache``, the tokens follow the ones it holds (their
        keys/values are added to it); without, ``start`` is tokens[:, 0]'s position (attention depends only on
        distances, so it changes nothing but rounding)."""
        t = tokens.shape[1]  # T
        if cache is not None:
            start = cache.length
        positions = torch.arange(start, start + t, device=tokens.device)
        rotation = rotary_table(positions, self.config.d_model // self.config.n_heads, self.config.rope_base)
        x = self.drop(self.embed(tokens))  # (B, T, C)
        for layer, block in enumerate(self.blocks):
            x = block(x, rotation, cache, layer)
        if cache is not None:
            cache.length += t
        return self.norm(x) @ self.embed.weight.t()  # (B, T, V): output layer tied to the embedding

    def loss(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean next-token NLL (nats) of tokens (B, T + 1): predict tokens[:, 1:] from tokens[:, :-1]."""
        logits = self(tokens[:, :-1])
        return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def build_model(config: TransformerConfig | dict | None = None) -> Transformer:
    if config is None:
        config = TransformerConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return Transformer(config)
