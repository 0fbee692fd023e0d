#include "core/models/common/FeatureCache.h"

#include <ATen/autocast_mode.h>
#include <string_view>

namespace omnilab {

namespace {

uint64_t mix(uint64_t h, uint64_t v)
{
    // splitmix64's finaliser over the running value
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

} // namespace

uint64_t FeatureCache::stateOf(const std::vector<torch::Tensor>& weights)
{
    // Where each tensor lives and how often it was written in place (load, copy_, to()):
    // any change to the network changes this.
    uint64_t h = mix(0, at::autocast::is_cpu_enabled() ? 1 : 2);
    for (const auto& w : weights) {
        h = mix(h, reinterpret_cast<uintptr_t>(w.unsafeGetTensorImpl()));
        h = mix(h, reinterpret_cast<uintptr_t>(w.data_ptr()));
        h = mix(h, static_cast<uint64_t>(w._version()));
    }
    return h;
}

torch::Tensor FeatureCache::apply(const torch::Tensor& rows, const std::vector<torch::Tensor>& weights,
                                  const std::function<torch::Tensor(const torch::Tensor&)>& compute)
{
    if (maxBytes_ <= 0 || !rows.device().is_cpu() || rows.dim() < 1 || rows.size(0) == 0 || rows.requires_grad())
        return compute(rows);
    const torch::Tensor input = rows.contiguous();
    const int64_t n = input.size(0);
    const int64_t rowBytes = static_cast<int64_t>(input.nbytes()) / n;
    uint64_t shape = mix(0, static_cast<uint64_t>(input.scalar_type()));
    for (int64_t i = 1; i < input.dim(); ++i)
        shape = mix(shape, static_cast<uint64_t>(input.size(i)));
    const char* base = static_cast<const char*>(input.data_ptr());
    std::vector<Key> keys;
    keys.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const std::string_view bytes(base + i * rowBytes, static_cast<size_t>(rowBytes));
        keys.push_back({mix(shape, std::hash<std::string_view>{}(bytes)), rowBytes});
    }

    std::vector<torch::Tensor> out(static_cast<size_t>(n));
    std::vector<int64_t> missing;
    uint64_t state = stateOf(weights);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!stateKnown_ || state != state_) {
            entries_.clear();
            bytes_ = 0;
            state_ = state;
            stateKnown_ = true;
        }
        for (int64_t i = 0; i < n; ++i) {
            auto it = entries_.find(keys[static_cast<size_t>(i)]);
            if (it != entries_.end())
                out[static_cast<size_t>(i)] = it->second;
            else
                missing.push_back(i);
        }
        hits_ += n - static_cast<int64_t>(missing.size());
        misses_ += static_cast<int64_t>(missing.size());
    }
    if (missing.empty())
        return torch::stack(out);
    const torch::Tensor computed = missing.size() == static_cast<size_t>(n)
                                       ? compute(input)
                                       : compute(input.index_select(0, torch::tensor(missing, torch::kLong)));
    std::lock_guard<std::mutex> lock(mutex_);
    // Rows made under InferenceMode (a query) are not kept: LibTorch does not let such
    // tensors into autograd's saved state later, and training may reuse an entry.
    const bool sameNetwork = stateKnown_ && state_ == state && !c10::InferenceMode::is_enabled();
    for (size_t j = 0; j < missing.size(); ++j) {
        torch::Tensor row = computed[static_cast<int64_t>(j)].clone();
        out[static_cast<size_t>(missing[j])] = row;
        const int64_t size = static_cast<int64_t>(row.nbytes());
        if (sameNetwork && bytes_ + size <= maxBytes_ && entries_.emplace(keys[static_cast<size_t>(missing[j])], row).second)
            bytes_ += size;
    }
    return torch::stack(out);
}

int64_t FeatureCache::hits() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
}

int64_t FeatureCache::misses() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
}

int64_t FeatureCache::bytes() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

int64_t FeatureCache::entries() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int64_t>(entries_.size());
}

} // namespace omnilab
