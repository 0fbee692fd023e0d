// The background data loader: batches in draw order whatever the worker count, bounded
// prefetch, decoding errors raised for their batch in order, shutdown while workers wait,
// the epoch stream's determinism, and a training run that is identical with 0 and 2 workers.
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/engine/BatchLoader.h"
#include "core/engine/Trainer.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {

// Targets are the sample indices; decoding takes a pseudo-random while so workers finish
// out of order. Counts batches being decoded at once.
class SlowDataset : public Dataset {
public:
    explicit SlowDataset(int64_t n, int64_t failAt = -1) : n_(n), failAt_(failAt) {}
    int64_t size() const override { return n_; }
    Batch batch(const std::vector<int64_t>& indices) const override
    {
        const int now = ++active_;
        int seen = peak_.load();
        while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
        }
        ++calls_;
        std::this_thread::sleep_for(std::chrono::microseconds(200 + (indices[0] * 7919) % 1500));
        --active_;
        for (int64_t i : indices)
            if (i == failAt_)
                throw Error("sample" + std::to_string(i) + ".png: cannot decode");
        Batch b;
        b.target = torch::tensor(indices, torch::kLong);
        return b;
    }
    int peak() const { return peak_; }
    int calls() const { return calls_; }

private:
    int64_t n_, failAt_;
    mutable std::atomic<int> active_{0}, peak_{0}, calls_{0};
};

BatchLoader::IndexSource consecutive(int64_t n, int64_t batch)
{
    auto start = std::make_shared<int64_t>(0);
    return [=](std::vector<int64_t>& idx) {
        if (*start >= n)
            return false;
        idx.clear();
        for (int64_t i = *start; i < std::min(n, *start + batch); ++i)
            idx.push_back(i);
        *start += batch;
        return true;
    };
}

std::vector<int64_t> drain(BatchLoader& loader)
{
    std::vector<int64_t> out;
    for (Batch b; loader.next(b);)
        for (int64_t i = 0; i < b.target.size(0); ++i)
            out.push_back(b.target[i].item<int64_t>());
    return out;
}

} // namespace

class TestLoader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sameOrderForAnyWorkerCount()
    {
        std::vector<int64_t> expected(101);
        std::iota(expected.begin(), expected.end(), 0);
        for (int workers : {0, 1, 2, 5}) {
            auto ds = std::make_shared<SlowDataset>(101);
            BatchLoader loader(ds, consecutive(101, 4), workers, 3);
            QCOMPARE(loader.workers(), workers);
            QCOMPARE(drain(loader), expected);
            Batch b;
            QVERIFY(!loader.next(b)); // stays at the end
        }
    }

    void prefetchIsBounded()
    {
        auto ds = std::make_shared<SlowDataset>(1000000);
        BatchLoader loader(ds, consecutive(1000000, 2), 4, 3);
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // nobody consumes
        QVERIFY2(ds->calls() <= 3, qPrintable(QString::number(ds->calls())));
        Batch b;
        QVERIFY(loader.next(b));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        QVERIFY2(ds->calls() <= 4, qPrintable(QString::number(ds->calls())));
        QVERIFY(ds->peak() <= 3);
    }

    void errorsArriveWithTheirBatch()
    {
        auto ds = std::make_shared<SlowDataset>(40, 21);
        BatchLoader loader(ds, consecutive(40, 5), 3, 4);
        Batch b;
        for (int i = 0; i < 4; ++i) { // samples 0..19 are fine
            QVERIFY(loader.next(b));
            QCOMPARE(b.target[0].item<int64_t>(), int64_t(i * 5));
        }
        try {
            loader.next(b);
            QFAIL("expected the decoding error of batch 4");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("sample21.png") != std::string::npos, e.what());
        }
        QVERIFY(loader.next(b)); // the batches after it still come
        QCOMPARE(b.target[0].item<int64_t>(), int64_t(25));
    }

    // A loader that is told what it reads puts it before a decoding error, with workers and
    // without: "no readable file in this split" alone named no dataset and no split.
    void errorsNameTheDataAndSplit()
    {
        for (int workers : {0, 2}) {
            auto ds = std::make_shared<SlowDataset>(10, 3);
            BatchLoader loader(ds, consecutive(10, 5), workers, 2, "task \"t\", train split of dataset \"bars\"");
            Batch b;
            try {
                loader.next(b);
                QFAIL("expected the decoding error of batch 0");
            } catch (const Error& e) {
                QCOMPARE(std::string(e.what()), std::string("task \"t\", train split of dataset \"bars\": sample3.png: cannot decode"));
            }
        }
    }

    void shutdownWhileWorkersWait()
    {
        auto ds = std::make_shared<SlowDataset>(100000);
        {
            BatchLoader loader(ds, consecutive(100000, 8), 4, 2);
            Batch b;
            QVERIFY(loader.next(b));
        } // workers are blocked on a full queue: the destructor must wake and join them (a hang fails at ctest's timeout)
    }

    void epochStreamIsDeterministic()
    {
        EpochStream a(10, 7, 1);
        EpochStream b = a;
        std::set<int64_t> firstEpoch;
        for (int i = 0; i < 3; ++i)
            for (int64_t x : a.next(3))
                firstEpoch.insert(x);
        QCOMPARE(a.epoch, int64_t(0));
        QCOMPARE(a.cursor, int64_t(9));
        EpochStream copy = a; // what a checkpoint keeps: (epoch, cursor)
        EpochStream restored(10, 7, 1);
        restored.epoch = a.epoch;
        restored.cursor = a.cursor;
        QCOMPARE(restored.next(4), copy.next(4)); // crosses into epoch 1 identically
        QCOMPARE(copy.epoch, int64_t(1));
        QCOMPARE(firstEpoch.size(), size_t(9)); // no repeats within an epoch
        for (int i = 0; i < 3; ++i) { // copies draw the same (the copy made before b draws)
            EpochStream copyOfB = b;
            const auto expected = copyOfB.next(3);
            QCOMPARE(b.next(3), expected);
        }
        EpochStream other(10, 8, 1), same(10, 7, 1);
        QVERIFY(other.next(10) != same.next(10));
        EpochStream tiny(2, 7, 0);
        QCOMPARE(tiny.next(5).size(), size_t(2)); // never more than the split
        EpochStream none(0, 7, 0);
        QVERIFY(none.next(5).empty());
    }

    void trainingIsTheSameWithAndWithoutWorkers()
    {
        QTemporaryDir dir;
        testing::writeBarsDataset(dir.filePath("data"), 200, 40);
        auto run = [&](int workers, const QString& name) {
            auto doc = testing::barsExperiment(dir.filePath("data"), 15);
            doc["model"]["body"]["dropout"] = 0.0;
            doc["training"]["data_workers"] = workers;
            doc["training"]["prefetch"] = 2;
            TrainOptions o;
            o.runDir = dir.filePath(name).toStdString();
            Trainer t(Experiment::fromJson(doc, "mem"), o);
            return t.run();
        };
        const RunSummary a = run(0, "inline"), b = run(2, "workers");
        QCOMPARE(a.status, std::string("finished"));
        QCOMPARE(b.status, std::string("finished"));
        QCOMPARE(a.finalMetrics, b.finalMetrics);
    }
};

QTEST_GUILESS_MAIN(TestLoader)
#include "test_loader.moc"
