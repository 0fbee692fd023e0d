#pragma once
// What a frozen network computed for each input row it has seen, so that the same image or
// video frame is not sent through it again. A frozen trunk in eval mode is a fixed function of
// one row at a time (convolutions, batch norm with its stored statistics, ReLU), so its output
// for a row is the same whichever batch the row comes in (to the last bits a different batch
// size may give the convolution); the demo's pre-trained vision network sees the same few
// thousand images and frames thousands of times.
//
// Rows are keyed by a 64-bit hash of their bytes with their shape and type; the entries are
// dropped whenever the network's weights or buffers change (a checkpoint loaded into it, a
// move to another device) or autocast is turned on or off. Past `maxBytes` of entries new rows
// are computed and not kept, and so are rows computed under InferenceMode (a query: its
// tensors may not enter autograd later). CPU tensors only (others are computed every time).
// Thread-safe (HogWild's workers share a model).
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

namespace omnilab {

class FeatureCache {
public:
    explicit FeatureCache(int64_t maxBytes) : maxBytes_(maxBytes) {}

    // `rows`: N × … inputs; `compute`: the network on some of them (M × … → M × …);
    // `weights`: every tensor the network's output depends on (parameters and buffers).
    torch::Tensor apply(const torch::Tensor& rows, const std::vector<torch::Tensor>& weights,
                        const std::function<torch::Tensor(const torch::Tensor&)>& compute);

    int64_t hits() const;
    int64_t misses() const;
    int64_t bytes() const;
    int64_t entries() const;

private:
    struct Key {
        uint64_t hash;
        int64_t bytes;
        bool operator==(const Key& o) const { return hash == o.hash && bytes == o.bytes; }
    };
    struct KeyHash {
        size_t operator()(const Key& k) const { return static_cast<size_t>(k.hash); }
    };
    static uint64_t stateOf(const std::vector<torch::Tensor>& weights);

    mutable std::mutex mutex_;
    int64_t maxBytes_;
    uint64_t state_ = 0;
    bool stateKnown_ = false;
    std::unordered_map<Key, torch::Tensor, KeyHash> entries_;
    int64_t bytes_ = 0, hits_ = 0, misses_ = 0;
};

} // namespace omnilab
