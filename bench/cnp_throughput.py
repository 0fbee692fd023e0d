#!/usr/bin/env python3
"""The baseline of bench/cnp_throughput.cpp: the same CNP (domain embedding and projection,
temporal encoder, decoder with masked self attention, temporal attention and gated spatial
attention, post-norm residual blocks) and the same VQA-shaped training step, in PyTorch, run
with Debian's python3-torch (the same LibTorch). Usage: cnp_throughput.py BATCH STEPS [THREADS]"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoid(length, d):
    pos = torch.arange(length, dtype=torch.float).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d, 2, dtype=torch.float) * (-math.log(10000.0) / d))
    table = torch.zeros(length, d)
    table[:, 0::2] = torch.sin(pos * rate)
    table[:, 1::2] = torch.cos(pos * rate)
    return table


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, -1).transpose(1, 2)

    def forward(self, query, memory, causal=False, gate=None):
        q, k, v = self.split(self.q(query)), self.split(self.k(memory)), self.split(self.v(memory))
        logits = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        if causal:
            future = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).triu(1)
            logits = logits.masked_fill(future, -1e9)
        p = torch.softmax(logits, -1)
        if gate is not None:
            p = p * gate
        ctx = (p @ v).transpose(1, 2).contiguous().view(query.size(0), query.size(1), -1)
        return self.out(ctx), p


class FeedForward(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.expand, self.contract = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.contract(torch.relu(self.expand(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.att, self.ff = Attention(d, heads), FeedForward(d, ff)
        self.n1, self.n2, self.drop = nn.LayerNorm(d), nn.LayerNorm(d), nn.Dropout(dropout)

    def forward(self, x):
        x = self.n1(x + self.drop(self.att(x, x)[0]))
        return self.n2(x + self.drop(self.ff(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.self_att, self.temporal, self.spatial = Attention(d, heads), Attention(d, heads), Attention(d, heads)
        self.ff = FeedForward(d, ff)
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(4))
        self.drop = nn.Dropout(dropout)

    def forward(self, y, temporal, spatial, spatial_to_temporal):
        y = self.norms[0](y + self.drop(self.self_att(y, y, causal=True)[0]))
        t, tp = self.temporal(y, temporal)
        y = self.norms[1](y + self.drop(t))
        gate = tp.index_select(-1, spatial_to_temporal)
        y = self.norms[2](y + self.drop(self.spatial(y, spatial, gate=gate)[0]))
        return self.norms[3](y + self.drop(self.ff(y)))


class Cnp(nn.Module):
    def __init__(self, d=512, heads=8, ff=2048, layers=6, control=32, domains=4, dropout=0.1):
        super().__init__()
        self.domain = nn.Embedding(domains, control)
        self.project = nn.Linear(d + control, d)
        self.encoder = nn.ModuleList(EncoderLayer(d, heads, ff, dropout) for _ in range(layers))
        self.decoder = nn.ModuleList(DecoderLayer(d, heads, ff, dropout) for _ in range(layers))
        self.register_buffer("positions", sinusoid(500, d))

    def encode(self, state, x, domain):
        b, t, s, _ = x.shape
        c = self.domain(torch.tensor([domain])).view(1, 1, 1, -1).expand(b, t, s, -1)
        x = self.project(torch.cat([x, c], -1))
        offset = state["temporal"].size(1) if "temporal" in state else 0
        if s > 1:
            sp = x.reshape(b, t * s, -1)
            frames = torch.arange(t).repeat_interleave(s) + offset
            state["spatial"] = torch.cat([state["spatial"], sp], 1) if "spatial" in state else sp
            state["s2t"] = torch.cat([state["s2t"], frames]) if "s2t" in state else frames
        tm = x.mean(2) + self.positions[:t]
        for layer in self.encoder:
            tm = layer(tm)
        state["temporal"] = torch.cat([state["temporal"], tm], 1) if "temporal" in state else tm

    def decode(self, state, y):
        x = y + self.positions[: y.size(1)]
        for layer in self.decoder:
            x = layer(x, state["temporal"], state["spatial"], state["s2t"])
        return x


def main():
    batch, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    d, cells, question, decoded, classes = 512, 49, 12, 16, 1000
    cnp, classifier, embedding = Cnp(), nn.Linear(d, classes), nn.Embedding(classes, d)
    params = list(cnp.parameters()) + list(classifier.parameters()) + list(embedding.parameters())
    adam = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    image, words = torch.randn(batch, 1, cells, d), torch.randn(batch, question, 1, d)
    target = torch.randint(0, classes, (batch, decoded))

    def step():
        state = {}
        cnp.encode(state, image, 0)
        cnp.encode(state, words, 2)
        logits = classifier(cnp.decode(state, embedding(target)))
        loss = F.cross_entropy(logits.reshape(-1, classes), target.reshape(-1))
        adam.zero_grad()
        loss.backward()
        adam.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = (time.perf_counter() - t0) / steps
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "pytorch", "batch": batch, "steps_per_s": round(1 / per_step, 4), "peak_rss_mib": round(rss)}))


if __name__ == "__main__":
    main()
