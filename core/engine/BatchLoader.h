#pragma once
// A data loader that decodes batches ahead of the training loop on background threads.
// Batches come out in exactly the order their index lists were drawn, whatever the number
// of workers, so a seed gives the same training run with 0, 1 or 8 workers. At most
// `prefetch` batches wait decoded (memory stays bounded); an error met while decoding a
// batch is raised by next() for that batch, in order.
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/api/Registries.h"

namespace omnilab {

class BatchLoader {
public:
    // Fills the next batch's sample indices; false when there are no more batches. Called
    // under the loader's lock, one call per batch, in batch order.
    using IndexSource = std::function<bool(std::vector<int64_t>& indices)>;

    // workers = 0: every batch is decoded by next() on the caller's thread. `what` names the
    // data for messages (e.g. `dataset "bars", train split`): a decoding error is raised as
    // "<what>: <reason>", so a failure says which dataset and split it came from.
    BatchLoader(std::shared_ptr<const Dataset> dataset, IndexSource source, int workers, int prefetch, std::string what = {});
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // The next batch; false at the end of the source. Rethrows the batch's decoding error.
    bool next(Batch& batch);
    int workers() const { return static_cast<int>(threads_.size()); }

private:
    struct Slot {
        Batch batch;
        std::exception_ptr error;
    };
    void work();
    Batch decode(const std::vector<int64_t>& indices) const;

    std::shared_ptr<const Dataset> dataset_;
    IndexSource source_;
    size_t prefetch_;
    std::string what_;
    std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::map<int64_t, Slot> done_;
    int64_t issued_ = 0, delivered_ = 0, end_ = -1; // end_: number of batches once known
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// The training order of one task's split: a fresh seeded shuffle every epoch, drawn
// batch by batch. Its (epoch, cursor) is what a checkpoint stores.
struct EpochStream {
    EpochStream() = default;
    EpochStream(int64_t n, uint64_t seed_, size_t task_) : size(n), seed(seed_), task(task_) {}

    int64_t size = 0;
    uint64_t seed = 0;
    size_t task = 0;
    int64_t epoch = 0, cursor = 0;
    std::vector<int64_t> order;

    void restart(); // order for the current epoch
    // The next batch of up to `batchSize` indices (fewer only when the split is smaller).
    std::vector<int64_t> next(int64_t batchSize);
};

} // namespace omnilab
