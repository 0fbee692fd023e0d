#include "core/engine/RunInspector.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/engine/Model.h"
#include "core/engine/RunSession.h"
#include "core/engine/Trainer.h"

namespace omnilab {

namespace fs = std::filesystem;

std::vector<std::string> declaredCapabilities(const Experiment& experiment)
{
    std::vector<std::string> declared;
    auto collect = [&](const char* kind, const std::string& type) {
        for (const auto& c : findRegistry(kind)->info(type).capabilities)
            declared.push_back(c);
    };
    collect(kinds::Body, experiment.model["body"].value("type", std::string()));
    for (const auto& t : experiment.tasks)
        collect(kinds::Head, t.head.value("type", std::string()));
    std::vector<std::string> out;
    for (const auto& c : capability::all())
        if (std::find(declared.begin(), declared.end(), c) != declared.end())
            out.push_back(c);
    return out;
}

struct RunInspector::Impl {
    std::string runDir;
    Experiment experiment;
    std::map<std::string, DatasetSplits> data;
    std::unique_ptr<MultiTaskModel> model;
    int64_t step = 0;
};

RunInspector::RunInspector(const std::string& runDir) : impl_(std::make_unique<Impl>())
{
    auto run = openRunSession(runDir);
    impl_->runDir = runDir;
    impl_->experiment = std::move(run->experiment);
    impl_->data = std::move(run->data);
    impl_->model = std::move(run->model);
    impl_->step = run->step;
}

RunInspector::~RunInspector() = default;

std::string RunInspector::bodyType() const { return impl_->experiment.model["body"].value("type", std::string()); }

int64_t RunInspector::step() const { return impl_->step; }

nlohmann::json RunInspector::statistics()
{
    torch::NoGradGuard noGrad;
    return impl_->model->body().statistics();
}

std::vector<std::string> RunInspector::capabilities() const { return declaredCapabilities(impl_->experiment); }

bool RunInspector::has(const std::string& capability) const
{
    const auto all = capabilities();
    return std::find(all.begin(), all.end(), capability) != all.end();
}

namespace {

template <class C>
C& requireCapability(const std::string& runDir, const std::string& body, BodyModule& module, const char* name)
{
    auto* c = capabilityOf<C>(module);
    if (!c)
        throw Error(runDir + ": the run's body \"" + body + "\" lacks the \"" + name + "\" capability");
    return *c;
}

} // namespace

KernelSharingReport RunInspector::kernelSharing(double delta)
{
    auto& source = requireCapability<KernelSharingSource>(impl_->runDir, bodyType(), impl_->model->body(), capability::KernelSharing);
    if (std::isnan(delta) || delta > 1)
        throw Error("delta must lie in [0, 1], got " + std::to_string(delta));
    torch::NoGradGuard noGrad;
    return source.kernelSharing(delta < 0 ? source.sharingThreshold() : delta);
}

ExpertLoadReport RunInspector::expertLoad()
{
    auto& source = requireCapability<ExpertLoadSource>(impl_->runDir, bodyType(), impl_->model->body(), capability::ExpertLoad);
    torch::NoGradGuard noGrad;
    return source.expertLoad();
}

std::vector<std::string> RunInspector::tasks() const
{
    std::vector<std::string> out;
    for (const auto& t : impl_->experiment.tasks)
        out.push_back(t.name);
    return out;
}

std::vector<std::string> RunInspector::activationLayers() const
{
    std::vector<std::string> out;
    for (const auto& [name, _] : impl_->experiment.model["peripherals"].items())
        out.push_back("peripheral:" + name);
    out.push_back("body");
    out.push_back("head");
    return out;
}

namespace {

// B × … × D -> B × D: the mean over every position between the batch and the features.
torch::Tensor pooled(torch::Tensor t)
{
    t = t.to(torch::kCPU).to(torch::kFloat);
    if (t.dim() == 1)
        return t.unsqueeze(1);
    if (t.dim() == 2)
        return t;
    return t.reshape({t.size(0), -1, t.size(-1)}).mean(1);
}

} // namespace

Activations RunInspector::activations(const std::string& layer, const std::vector<std::string>& wanted, const std::string& split, int perTask)
{
    const auto layers = activationLayers();
    if (std::find(layers.begin(), layers.end(), layer) == layers.end())
        throw Error("no layer \"" + layer + "\" to read activations from (there are: peripheral:<name>, body, head)");
    if (perTask < 1)
        throw Error("samples per task must be at least 1, got " + std::to_string(perTask));
    std::vector<const TaskSpec*> chosen;
    for (const auto& t : impl_->experiment.tasks)
        if (wanted.empty() || std::find(wanted.begin(), wanted.end(), t.name) != wanted.end())
            chosen.push_back(&t);
    for (const auto& w : wanted)
        if (std::none_of(impl_->experiment.tasks.begin(), impl_->experiment.tasks.end(), [&](const TaskSpec& t) { return t.name == w; }))
            throw Error("the run has no task \"" + w + "\"");
    const std::string peripheral = layer.rfind("peripheral:", 0) == 0 ? layer.substr(11) : std::string();

    torch::NoGradGuard noGrad;
    Activations out;
    out.layer = layer;
    out.split = split;
    int64_t width = -1;
    std::string widthTask;
    for (const TaskSpec* task : chosen) {
        std::string input;
        if (!peripheral.empty()) {
            for (const auto& [in, p] : task->inputs)
                if (p == peripheral)
                    input = in;
            if (input.empty())
                continue; // the task does not read through this peripheral
        }
        auto ds = impl_->data.at(task->dataset).split(split);
        if (!ds)
            throw Error("dataset \"" + task->dataset + "\" of task \"" + task->name + "\" has no " + split + " split");
        const auto names = ds->classNames();
        const int64_t n = std::min<int64_t>(perTask, ds->size());
        for (int64_t start = 0; start < n; start += 32) {
            std::vector<int64_t> indices;
            for (int64_t i = start; i < std::min<int64_t>(n, start + 32); ++i)
                indices.push_back(i);
            const Batch batch = ds->batch(indices);
            torch::Tensor a;
            if (layer == "head") {
                a = impl_->model->forward(task->name, batch);
            } else {
                std::map<std::string, torch::Tensor> masks;
                auto encoded = impl_->model->encode(task->name, batch, masks);
                if (!peripheral.empty())
                    a = encoded.at(input);
                else {
                    const torch::Tensor target = batch.target.defined() ? batch.target.to(impl_->model->device()) : torch::Tensor();
                    a = impl_->model->body().forwardTask(task->name, encoded, masks, target);
                }
            }
            a = pooled(a);
            if (width < 0) {
                width = a.size(1);
                widthTask = task->name;
            } else if (a.size(1) != width)
                throw Error("layer \"" + layer + "\" gives " + std::to_string(width) + " values per sample for task \"" + widthTask + "\" but " +
                            std::to_string(a.size(1)) + " for \"" + task->name + "\"; pick one of them");
            const auto acc = a.contiguous();
            const float* p = acc.data_ptr<float>();
            const bool classes = batch.target.defined() && batch.target.dim() == 1;
            const auto target = classes ? batch.target.to(torch::kCPU).to(torch::kLong) : torch::Tensor();
            for (int64_t r = 0; r < acc.size(0); ++r) {
                out.points.emplace_back(p + r * width, p + (r + 1) * width);
                out.tasks.push_back(task->name);
                std::string label;
                if (classes) {
                    const int64_t c = target[r].item<int64_t>();
                    label = c >= 0 && static_cast<size_t>(c) < names.size() ? names[static_cast<size_t>(c)] : std::to_string(c);
                }
                out.labels.push_back(label);
            }
        }
    }
    if (out.points.empty())
        throw Error("no samples: " + (peripheral.empty() ? std::string("the chosen tasks have no ") + split + " samples"
                                                         : "no chosen task reads through peripheral \"" + peripheral + "\""));
    return out;
}

} // namespace omnilab
