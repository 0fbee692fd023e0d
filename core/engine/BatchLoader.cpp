#include "core/engine/BatchLoader.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/util/Error.h"

namespace omnilab {

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, IndexSource source, int workers, int prefetch, std::string what)
    : dataset_(std::move(dataset)), source_(std::move(source)), prefetch_(static_cast<size_t>(std::max(1, prefetch))), what_(std::move(what))
{
    for (int i = 0; i < workers; ++i)
        threads_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    space_.notify_all();
    ready_.notify_all();
    for (auto& t : threads_)
        t.join();
}

void BatchLoader::work()
{
    for (;;) {
        int64_t seq;
        std::vector<int64_t> indices;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            // Bounded: do not run more than `prefetch` batches ahead of the consumer.
            space_.wait(lock, [&] { return stopping_ || end_ >= 0 || issued_ - delivered_ < static_cast<int64_t>(prefetch_); });
            if (stopping_ || end_ >= 0)
                return;
            if (!source_(indices)) {
                end_ = issued_;
                ready_.notify_all();
                return;
            }
            seq = issued_++;
        }
        Slot slot;
        try {
            slot.batch = decode(indices);
        } catch (...) {
            slot.error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.emplace(seq, std::move(slot));
        }
        ready_.notify_all();
    }
}

Batch BatchLoader::decode(const std::vector<int64_t>& indices) const
{
    try {
        return dataset_->batch(indices);
    } catch (const Error& e) {
        if (what_.empty())
            throw;
        throw Error(what_ + ": " + e.what());
    }
}

bool BatchLoader::next(Batch& batch)
{
    if (threads_.empty()) {
        std::vector<int64_t> indices;
        if (!source_(indices))
            return false;
        batch = decode(indices);
        return true;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return done_.count(delivered_) || (end_ >= 0 && delivered_ >= end_); });
    auto it = done_.find(delivered_);
    if (it == done_.end())
        return false;
    Slot slot = std::move(it->second);
    done_.erase(it);
    ++delivered_;
    lock.unlock();
    space_.notify_all();
    if (slot.error)
        std::rethrow_exception(slot.error);
    batch = std::move(slot.batch);
    return true;
}

void EpochStream::restart()
{
    order.resize(static_cast<size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    // seed_seq keeps 32 bits per value: pass both halves of the 64-bit seed.
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(task), static_cast<uint32_t>(epoch)};
    std::mt19937_64 rng(seq);
    std::shuffle(order.begin(), order.end(), rng);
}

std::vector<int64_t> EpochStream::next(int64_t batchSize)
{
    std::vector<int64_t> idx;
    if (size <= 0)
        return idx;
    if (order.size() != static_cast<size_t>(size))
        restart();
    while (static_cast<int64_t>(idx.size()) < batchSize) {
        if (cursor >= static_cast<int64_t>(order.size())) {
            ++epoch;
            cursor = 0;
            restart();
        }
        idx.push_back(order[static_cast<size_t>(cursor++)]);
        if (static_cast<int64_t>(idx.size()) >= size)
            break;
    }
    return idx;
}

} // namespace omnilab
