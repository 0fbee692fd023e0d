#include "core/engine/Model.h"
#include "core/runtime/Autocast.h"

#include <algorithm>
#include <filesystem>

#include "core/store/RunFolder.h"
#include "core/engine/CheckpointFile.h"
#include "core/engine/BatchLoader.h"

#include "core/mtl/Resampling.h"
#include "core/runtime/Runtime.h"

namespace omnilab {

torch::Device resolveTorchDevice()
{
    return currentRuntime().device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

std::map<std::string, DatasetSplits> loadDatasets(const Experiment& experiment, const std::string& cacheDir)
{
    std::map<std::string, DatasetSplits> out;
    for (const auto& spec : experiment.datasets) {
        DatasetSplits splits;
        try {
            nlohmann::json options = spec.options;
            if (!cacheDir.empty()) {
                if (options.contains("cache_dir") && options["cache_dir"] == "")
                    options["cache_dir"] = cacheDir;
                if (options.contains("source") && options["source"].is_object() && options["source"].value("cache_dir", "-") == "")
                    options["source"]["cache_dir"] = cacheDir; // a wrapping format (sensory)
            }
            splits = datasetFormats().factory(spec.format)(options);
        } catch (const ConfigError&) {
            throw;
        } catch (const std::exception& e) {
            throw Error("dataset \"" + spec.name + "\" (" + spec.format + "): " + e.what());
        }
        if (!splits.train || splits.train->size() == 0)
            throw Error("dataset \"" + spec.name + "\" (" + spec.format + "): the train split is empty");
        out[spec.name] = std::move(splits);
    }
    return out;
}

namespace {

// Some samples of another dataset, renumbered 0 … n−1.
class SubsetDataset : public Dataset {
public:
    SubsetDataset(std::shared_ptr<Dataset> source, std::vector<int64_t> indices) : source_(std::move(source)), indices_(std::move(indices)) {}
    int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
    Batch batch(const std::vector<int64_t>& indices) const override
    {
        std::vector<int64_t> mapped;
        mapped.reserve(indices.size());
        for (int64_t i : indices)
            mapped.push_back(indices_.at(static_cast<size_t>(i)));
        return source_->batch(mapped);
    }
    std::vector<int64_t> labels() const override
    {
        const auto all = source_->labels();
        if (all.empty())
            return {};
        std::vector<int64_t> out;
        for (int64_t i : indices_)
            out.push_back(all.at(static_cast<size_t>(i)));
        return out;
    }
    std::vector<std::string> classNames() const override { return source_->classNames(); }
    std::vector<std::string> inputVocabulary(const std::string& input) const override { return source_->inputVocabulary(input); }
    std::vector<std::string> drainWarnings() override { return source_->drainWarnings(); }

private:
    std::shared_ptr<Dataset> source_;
    std::vector<int64_t> indices_;
};

} // namespace

void applyFold(std::map<std::string, DatasetSplits>& data, int64_t folds, int64_t fold, uint64_t seed)
{
    if (fold < 0 || fold >= folds)
        throw Error("fold " + std::to_string(fold + 1) + " does not exist: there are " + std::to_string(folds));
    for (auto& [name, splits] : data) {
        const int64_t n = splits.train->size();
        std::vector<std::vector<int64_t>> parts;
        try {
            parts = kFoldIndices(n, folds, seed);
        } catch (const Error& e) {
            throw Error("dataset \"" + name + "\": " + e.what() + " in its train split");
        }
        auto held = parts[static_cast<size_t>(fold)];
        std::sort(held.begin(), held.end());
        auto source = splits.train;
        splits.train = std::make_shared<SubsetDataset>(source, complementOf(held, n));
        splits.val = std::make_shared<SubsetDataset>(source, held);
        splits.test = splits.val;
    }
}

namespace {
// The "<input>_mask" tensors of a batch for the bound inputs that have one.
std::map<std::string, torch::Tensor> masksOf(const Batch& batch, const std::map<std::string, std::string>& inputs, torch::Device device)
{
    std::map<std::string, torch::Tensor> masks;
    for (const auto& [input, peripheral] : inputs) {
        auto m = batch.inputs.find(input + "_mask");
        if (m != batch.inputs.end())
            masks[input + "_mask"] = m->second.to(device);
    }
    return masks;
}

std::vector<int64_t> sampleShape(const torch::Tensor& t)
{
    auto sizes = t.sizes().vec();
    sizes.erase(sizes.begin());
    return sizes;
}
} // namespace

MultiTaskModel::MultiTaskModel(const Experiment& experiment, const std::map<std::string, DatasetSplits>& data)
{
    for (auto it = experiment.model["peripherals"].begin(); it != experiment.model["peripherals"].end(); ++it) {
        // Language peripherals size their embedding from the token pieces of the inputs bound
        // to them ("input_vocabulary": the largest, when several datasets share the peripheral).
        nlohmann::json options = it.value();
        std::vector<std::string> vocabulary;
        for (const auto& task : experiment.tasks)
            for (const auto& [input, peripheral] : task.inputs)
                if (peripheral == it.key()) {
                    auto pieces = data.at(task.dataset).train->inputVocabulary(input);
                    if (pieces.size() > vocabulary.size())
                        vocabulary = std::move(pieces);
                }
        if (!vocabulary.empty())
            options["input_vocabulary"] = vocabulary;
        auto p = peripherals().factory(it.value()["type"].get<std::string>())(options);
        peripherals_[it.key()] = register_module("peripheral_" + it.key(), p);
    }
    torch::NoGradGuard noGrad;
    // One real sample of every task through its peripherals: the shapes the body and the
    // heads are sized from.
    std::vector<ShapeContext::TaskLabels> labels;
    std::vector<Batch> probes;
    std::vector<std::map<std::string, torch::Tensor>> encodedProbes;
    for (const auto& task : experiment.tasks) {
        const auto& splits = data.at(task.dataset);
        Batch probe = splits.train->batch({0});
        ShapeContext::TaskLabels t{task.name, splits.train->classNames(), task.head, {}};
        std::map<std::string, torch::Tensor> encoded;
        for (const auto& [input, peripheral] : task.inputs) {
            auto raw = probe.inputs.find(input);
            if (raw == probe.inputs.end())
                throw Error("task \"" + task.name + "\": dataset \"" + task.dataset + "\" gives no input \"" + input + "\"");
            encoded[input] = peripherals_.at(peripheral)->forward(raw->second);
            t.inputs[input] = sampleShape(encoded[input]);
        }
        labels.push_back(std::move(t));
        probes.push_back(std::move(probe));
        encodedProbes.push_back(std::move(encoded));
    }
    for (size_t ti = 0; ti < experiment.tasks.size(); ++ti) {
        const auto& task = experiment.tasks[ti];
        const auto& splits = data.at(task.dataset);
        const Batch& probe = probes[ti];
        const auto& encoded = encodedProbes[ti];
        if (!body_) {
            ShapeContext ctx;
            ctx.tasks = labels;
            ctx.inputs = labels[ti].inputs;
            const auto& bodySpec = experiment.model["body"];
            const std::string type = bodySpec["type"].get<std::string>();
            body_ = register_module("body", bodies().factory(type)(bodySpec, ctx));
            checkCapabilities("body \"" + type + "\"", bodies().info(type).capabilities, *body_);
        }
        body_->eval();
        auto features = body_->forwardTask(task.name, encoded, masksOf(probe, task.inputs, torch::kCPU), probe.target);
        body_->train();
        // Heads that build label dictionaries (OneModel's PHOC head) read the dataset's class
        // names from "dataset_classes", which the engine adds to the validated options.
        nlohmann::json headOptions = task.head;
        headOptions["dataset_classes"] = splits.train->classNames();
        headOptions["body_info"] = body_->info();
        const std::string headType = task.head["type"].get<std::string>();
        auto head = heads().factory(headType)(headOptions, sampleShape(features));
        checkCapabilities("head \"" + headType + "\"", heads().info(headType).capabilities, *head);
        tasks_[task.name] = {task.inputs, register_module("head_" + task.name, head)};
    }
    // After the shape probes, which ran in fp32. Throws Error naming the setting (fp16 on a CPU).
    precision_ = choosePrecision(experiment.training.precision, resolveTorchDevice().is_cuda());
}

torch::Device MultiTaskModel::device() const
{
    // A tensor of the model's, found once: Module::to() moves it in place, so it always
    // says where the model is, without listing every parameter on each forward pass.
    if (!anchor_.defined()) {
        const auto params = parameters();
        const auto bufs = buffers();
        anchor_ = !params.empty() ? params.front() : !bufs.empty() ? bufs.front() : torch::Tensor();
        if (!anchor_.defined())
            return torch::Device(torch::kCPU);
    }
    return anchor_.device();
}

std::map<std::string, torch::Tensor> MultiTaskModel::encode(const std::string& task, const Batch& batch, std::map<std::string, torch::Tensor>& masks)
{
    auto it = tasks_.find(task);
    if (it == tasks_.end())
        throw Error("model has no task \"" + task + "\"");
    const auto dev = device();
    std::map<std::string, torch::Tensor> encoded;
    for (const auto& [input, peripheral] : it->second.inputs) {
        auto raw = batch.inputs.find(input);
        if (raw == batch.inputs.end())
            throw Error("task \"" + task + "\": the batch has no input \"" + input + "\"");
        encoded[input] = peripherals_.at(peripheral)->forward(raw->second.to(dev));
    }
    masks = masksOf(batch, it->second.inputs, dev);
    return encoded;
}

torch::Tensor MultiTaskModel::forward(const std::string& task, const Batch& batch)
{
    AutocastScope autocast(precision_.precision, device());
    std::map<std::string, torch::Tensor> masks;
    auto encoded = encode(task, batch, masks);
    const torch::Tensor target = batch.target.defined() ? batch.target.to(device()) : torch::Tensor();
    return toFloat32(tasks_.at(task).head->forward(body_->forwardTask(task, encoded, masks, target)));
}

void MultiTaskModel::setPrecision(Precision precision, const std::string& reason)
{
    precision_.precision = precision;
    precision_.reason = reason;
}

bool MultiTaskModel::generates() const { return capabilityOf<SequenceGenerator>(*body_) != nullptr; }

Generation MultiTaskModel::generate(const std::string& task, const Batch& batch, const GenerateOptions& options)
{
    AutocastScope autocast(precision_.precision, device());
    std::map<std::string, torch::Tensor> masks;
    auto encoded = encode(task, batch, masks);
    auto* generator = capabilityOf<SequenceGenerator>(*body_);
    if (!generator)
        throw Error("task \"" + task + "\": this run's body does not generate outputs");
    Generation g = generator->generate(task, encoded, masks, options);
    g.scores = toFloat32(g.scores);
    return g;
}

BodyModule& MultiTaskModel::body() { return *body_; }

PeripheralModule& MultiTaskModel::peripheral(const std::string& name)
{
    auto it = peripherals_.find(name);
    if (it == peripherals_.end())
        throw Error("model has no peripheral \"" + name + "\"");
    return *it->second;
}

namespace {
// Module::load replaces each tensor with the archive's, whatever its shape. Loads, then
// calls `refuse(name, checkpoint size, module size)` for the first tensor whose size changed.
template <typename Refuse>
void loadComparingSizes(torch::nn::Module& module, torch::serialize::InputArchive& archive, Refuse refuse)
{
    std::map<std::string, std::vector<int64_t>> before;
    for (const auto& p : module.named_parameters())
        before[p.key()] = p.value().sizes().vec();
    for (const auto& b : module.named_buffers())
        before[b.key()] = b.value().sizes().vec();
    module.load(archive);
    auto check = [&](const std::string& name, const torch::Tensor& t) {
        const auto it = before.find(name);
        if (it != before.end() && it->second != t.sizes().vec())
            refuse(name, c10::str(t.sizes()), c10::str(c10::IntArrayRef(it->second)));
    };
    for (const auto& p : module.named_parameters())
        check(p.key(), p.value());
    for (const auto& b : module.named_buffers())
        check(b.key(), b.value());
}
} // namespace

void loadMatching(torch::nn::Module& module, torch::serialize::InputArchive& archive)
{
    loadComparingSizes(module, archive, [](const std::string& name, const std::string& saved, const std::string& here) {
        throw Error("its " + name + " is " + saved + " but the experiment (config.json) makes it " + here +
                    ": a size in the experiment was changed after this checkpoint was written, and the checkpoint's "
                    "tensors cannot fill this model; undo the edit or train a new run");
    });
}

int64_t loadModelCheckpoint(MultiTaskModel& model, const std::string& checkpoint, torch::Device device)
{
    try {
        torch::serialize::InputArchive archive, modelArchive;
        loadCheckpointArchive(archive, checkpoint, device);
        archive.read("model", modelArchive);
        loadMatching(model, modelArchive);
        c10::IValue s;
        archive.read("step", s);
        model.to(device);
        return s.toInt();
    } catch (const std::exception& e) {
        if (dynamic_cast<const Error*>(&e) && std::string(e.what()).rfind(checkpoint, 0) == 0)
            throw; // already names the file and says why
        throw Error(checkpoint + ": cannot load the model: " + reasonOf(e));
    }
}

std::vector<std::string> initPeripheralsFrom(const Experiment& experiment, MultiTaskModel& model, torch::Device device)
{
    std::vector<std::string> lines;
    const auto& peripheralSpecs = experiment.model.value("peripherals", nlohmann::json::object());
    for (auto it = peripheralSpecs.begin(); it != peripheralSpecs.end(); ++it) {
        const std::string source = it.value().value("init_from", std::string());
        if (source.empty())
            continue;
        const std::string file = std::filesystem::is_directory(source) ? RunPaths(source).checkpoint : source;
        const std::string field = "field \"model/peripherals/" + it.key() + "/init_from\": ";
        if (!std::filesystem::is_regular_file(file))
            throw Error(field + file + ": no such checkpoint");
        int64_t step = 0;
        try {
            torch::serialize::InputArchive archive, modelArchive, peripheralArchive;
            loadCheckpointArchive(archive, file, device);
            archive.read("model", modelArchive);
            if (!modelArchive.try_read("peripheral_" + it.key(), peripheralArchive))
                throw Error("it holds no peripheral \"" + it.key() + "\"");
            loadComparingSizes(model.peripheral(it.key()), peripheralArchive, [&](const std::string& name, const std::string& saved, const std::string& here) {
                throw Error("its peripheral \"" + it.key() + "\" does not fit this one (same type and sizes needed): " + name + " is " + saved +
                            ", here " + here);
            });
            c10::IValue s;
            if (archive.try_read("step", s))
                step = s.toInt();
        } catch (const Error& e) {
            throw Error(field + file + ": " + e.what());
        } catch (const std::exception& e) {
            throw Error(field + file + ": its peripheral \"" + it.key() + "\" does not fit this one (same type and sizes needed): " + reasonOf(e));
        }
        lines.push_back("peripheral \"" + it.key() + "\" starts from " + file + " (step " + std::to_string(step) + ")");
    }
    return lines;
}

HeadModule& MultiTaskModel::head(const std::string& task)
{
    auto it = tasks_.find(task);
    if (it == tasks_.end())
        throw Error("model has no task \"" + task + "\"");
    return *it->second.head;
}

int64_t MultiTaskModel::parameterCount() const
{
    int64_t n = 0;
    for (const auto& p : parameters())
        n += p.numel();
    return n;
}

std::vector<torch::Tensor> MultiTaskModel::sharedParameters() const
{
    std::vector<torch::Tensor> out;
    for (const auto& p : body_->sharedParameters())
        if (p.requires_grad())
            out.push_back(p);
    return out;
}

std::vector<torch::Tensor> MultiTaskModel::headParameters(const std::string& task) { return head(task).parameters(); }

std::map<std::string, double> evaluateTask(MultiTaskModel& model, const TaskSpec& task, const Dataset& data,
                                           int64_t batchSize, int64_t maxBatches, torch::Device device,
                                           const std::function<bool()>& cancelled, int workers, ConfusionMatrix* confusion)
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    std::vector<std::unique_ptr<Metric>> metrics;
    for (const auto& name : task.metrics) {
        metrics.push_back(omnilab::metrics().factory(name)(nlohmann::json::object()));
        metrics.back()->reset();
    }
    bool wantsGeneration = false;
    for (const auto& m : metrics)
        wantsGeneration = wantsGeneration || m->needsGeneration();
    double lossSum = 0;
    int64_t seen = 0, batchNumber = 0;
    // Batches decode ahead on `workers` threads while the model evaluates the previous one.
    int64_t start = 0, issued = 0;
    BatchLoader loader(
        std::shared_ptr<const Dataset>(&data, [](const Dataset*) {}),
        [&, size = data.size()](std::vector<int64_t>& idx) {
            if (start >= size || (maxBatches > 0 && issued >= maxBatches))
                return false;
            idx.clear();
            for (int64_t i = start; i < std::min(start + batchSize, size); ++i)
                idx.push_back(i);
            start += batchSize;
            ++issued;
            return true;
        },
        workers, 2 * std::max(1, workers), "task \"" + task.name + "\", dataset \"" + task.dataset + "\"");
    for (Batch b;;) {
        if (cancelled && cancelled()) {
            if (wasTraining)
                model.train();
            throw Cancelled();
        }
        if (!loader.next(b))
            break;
        const auto count = b.target.size(0);
        auto target = b.target.to(device);
        auto out = model.forward(task.name, b);
        lossSum += model.head(task.name).loss(out, target).item<double>() * static_cast<double>(count);
        auto& head = model.head(task.name);
        const auto scores = head.scores(out);
        EvalBatch eb{out, scores, target, {}};
        if (wantsGeneration && model.generates())
            eb.generated = model.generate(task.name, b, GenerateOptions{}).tokens.select(1, 0);
        for (auto& m : metrics)
            m->updateWithHead(head, eb);
        if (confusion && scores.dim() == 2 && target.dim() == 1) {
            if (confusion->classes() != scores.size(1))
                confusion->resize(scores.size(1));
            const auto [best, predicted] = torch::softmax(scores.to(torch::kFloat), 1).max(1);
            const auto p = best.to(torch::kCPU).to(torch::kDouble).contiguous();
            const auto k = predicted.to(torch::kCPU).to(torch::kLong).contiguous();
            const auto truth = target.to(torch::kCPU).to(torch::kLong).contiguous();
            // Batches come in order and each asks for [batchStart, batchStart + batchSize); a
            // batch that came back shorter lost samples to on_error skip: positions unknown.
            const int64_t batchStart = batchNumber * batchSize;
            const bool whole = count == std::min(batchSize, data.size() - batchStart);
            for (int64_t i = 0; i < truth.numel(); ++i) {
                confusion->add(truth.data_ptr<int64_t>()[i], k.data_ptr<int64_t>()[i]);
                confusion->samples.push_back({whole ? batchStart + i : -1, truth.data_ptr<int64_t>()[i], k.data_ptr<int64_t>()[i], p.data_ptr<double>()[i]});
            }
        }
        ++batchNumber;
        seen += count;
    }
    if (wasTraining)
        model.train();
    std::map<std::string, double> out;
    for (size_t i = 0; i < metrics.size(); ++i)
        out[task.metrics[i]] = metrics[i]->value();
    out["loss"] = seen == 0 ? 0.0 : lossSum / static_cast<double>(seen);
    return out;
}

} // namespace omnilab

#include "core/data/DatasetSummary.h"

namespace omnilab {

std::vector<DatasetSummary> summarizeDatasets(const Experiment& experiment)
{
    std::vector<DatasetSummary> out;
    auto data = loadDatasets(experiment);
    for (const auto& spec : experiment.datasets) {
        const DatasetSplits& splits = data.at(spec.name);
        DatasetSummary s{spec.name, spec.format, splits.train->classNames(), {}};
        for (const char* name : {"train", "val", "test"}) {
            auto ds = splits.split(name);
            if (!ds)
                continue;
            SplitSummary split{name, ds->size(), {}};
            for (int64_t label : ds->labels()) {
                if (label < 0)
                    continue;
                if (static_cast<size_t>(label) >= split.classCounts.size())
                    split.classCounts.resize(static_cast<size_t>(label) + 1, 0);
                ++split.classCounts[static_cast<size_t>(label)];
            }
            s.splits.push_back(std::move(split));
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace omnilab
