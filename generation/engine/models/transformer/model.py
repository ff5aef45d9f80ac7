"""A decoder-only Transformer over Performance events (nanoGPT-style: pre-norm blocks, tied embeddings), with rotary
position attention and a key/value cache for sampling.

Rotary positions make attention depend on how far apart two tokens are, not on where they are, so the sampler's
cache can drop its oldest entries once it holds `context` tokens and keep going (a sliding window that never
recomputes). One code path for CPU and GPU. Shapes: B batch, T new tokens, S cached + new tokens, H heads,
D head size, C = d_model, V = vocabulary.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

from generation.engine.models.transformer.spec import TransformerConfig, config_from_dict

KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, H, S, D), already rotated


def rotary_tables(positions: torch.Tensor, head_size: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """positions (T,) -> cos, sin (T, D/2): angle of each position for each rotated pair of channels."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_size, 2, device=positions.device, dtype=torch.float32)
                               / head_size))  # (D/2,)
    angles = positions.to(torch.float32)[:, None] * inv_freq[None, :]  # (T, D/2)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, T, D): rotate channel pairs (first half, second half) by each position's angles."""
    x1, x2 = x.chunk(2, dim=-1)  # (B, H, T, D/2) each
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.head_size = config.d_model // config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(c, dim=2)  # (B, T, C) each
        q, k, v = (z.view(b, t, self.n_heads, self.head_size).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)  # (B, H, S, D)
            v = torch.cat([cache[1], v], dim=2)
        s = k.shape[2]
        mask = None  # T == 1: one new token sees everything cached; S == T: plain causal attention
        if 1 < t < s:  # new token i sees the S - T cached ones and the new ones up to itself
            mask = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
        y = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=(t > 1 and s == t),
                                                    dropout_p=self.dropout if self.training else 0.0)  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return functional.dropout(self.proj(y), self.dropout, self.training), (k, v)


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = Attention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        self.mlp = nn.Sequential(nn.Linear(config.d_model, hidden), nn.GELU(), nn.Linear(hidden, config.d_model),
                                 nn.Dropout(config.dropout))

    def forward(self, x, cos, sin, cache=None):
        a, new_cache = self.attn(self.norm1(x), cos, sin, cache)
        x = x + a
        return x + self.mlp(self.norm2(x)), new_cache


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
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens: torch.Tensor, *, cache: KVCache | None = None,
                start: int = 0) -> tuple[torch.Tensor, KVCache]:
        """tokens (B, T) int64 -> (logits (B, T, V), new cache). ``start``: the position of tokens[:, 0] (the
        number of tokens seen before, cached or dropped); ``cache``: the keys/values of earlier tokens or None."""
        t = tokens.shape[1]  # T
        positions = torch.arange(start, start + t, device=tokens.device)
        cos, sin = rotary_tables(positions, self.config.d_model // self.config.n_heads, self.config.rope_base)
        x = self.drop(self.embed(tokens))  # (B, T, C)
        new_cache: KVCache = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, cos, sin, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        x = self.norm(x)
        return x @ self.embed.weight.t(), new_cache  # (B, T, V): output layer tied to the embedding

    def loss(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean next-token NLL (nats) of tokens (B, T + 1): predict tokens[:, 1:] from tokens[:, :-1]."""
        logits, _ = self(tokens[:, :-1])
        return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def crop_cache(cache: KVCache, keep: int) -> KVCache:
    """The last ``keep`` positions of every layer's keys and values (B, H, S, D) -> (B, H, keep, D)."""
    return [(k[:, :, -keep:], v[:, :, -keep:]) for k, v in cache]


def build_model(config: TransformerConfig | dict | None = None) -> Transformer:
    if config is None:
        config = TransformerConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return Transformer(config)
