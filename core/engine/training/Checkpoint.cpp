#include "core/engine/training/Checkpoint.h"

#include <filesystem>
#include <sstream>

#include <ATen/Context.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/output-archive.h>

#include "core/api/Training.h"
#include "core/engine/CheckpointFile.h"
#include "core/engine/Model.h"
#include "core/store/RunFolder.h"
#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "core/util/ErrorText.h"

namespace omnilab {

namespace fs = std::filesystem;
using nlohmann::json;

void TrainingCheckpoint::write(const std::string& file, const TrainingObjects& objects, const TrainingProgress& progress, torch::Device device,
                               const std::function<void(const std::string& tempFile)>& beforeCommit)
{
    torch::serialize::OutputArchive archive, modelArchive, optimizerArchive;
    objects.model.save(modelArchive);
    objects.optimizer.save(optimizerArchive);
    archive.write("model", modelArchive);
    archive.write("optimizer", optimizerArchive);
    const auto weightingState = objects.weighting.state();
    for (size_t i = 0; i < weightingState.size(); ++i)
        archive.write("weighting_" + std::to_string(i), weightingState[i].detach().cpu());
    archive.write("step", c10::IValue(progress.step));
    archive.write("config", c10::IValue(progress.config));
    if (!progress.rng)
        throw Error(file + ": a training checkpoint needs the task sampler's random engine");
    std::ostringstream rngText;
    rngText << *progress.rng;
    archive.write("rng_engine", c10::IValue(rngText.str()));
    archive.write("rng_torch", at::detail::getDefaultCPUGenerator().get_state());
    if (device.is_cuda()) // dropout on the GPU draws from the CUDA generator
        archive.write("rng_cuda", at::globalContext().defaultGenerator(device).get_state());
    json streams = json::array();
    for (const auto& [epoch, cursor] : progress.streams)
        streams.push_back({epoch, cursor});
    archive.write("streams", c10::IValue(streams.dump()));
    archive.write("interventions", c10::IValue(progress.interventions.dump()));
    if (!progress.monitor.is_null())
        archive.write("monitor", c10::IValue(progress.monitor.dump()));
    try {
        writeFileAtomicallyWith(file, [&](const std::string& tmp) { saveCheckpointArchive(archive, tmp); }, beforeCommit);
    } catch (const std::exception& e) {
        // A full disk or a file-size limit: LibTorch says only "PytorchStreamWriter failed writing
        // file data/3". Name the checkpoint, the room left, and that the last one is intact (the
        // new one was written beside it and is removed; the rename never happened).
        std::error_code ec;
        const auto room = std::filesystem::space(std::filesystem::path(file).parent_path(), ec);
        const std::string free = ec ? std::string() : "; " + std::to_string(room.available / (1024 * 1024)) + " MB free on its disk";
        throw Error(file + ": cannot write the checkpoint (" + reasonOf(e) + free + "); the checkpoint before it is unchanged");
    }
}

TrainingCheckpoint::TrainingCheckpoint(const std::string& file, torch::Device device) : file_(file)
{
    loadCheckpointArchive(archive_, file, device); // optimiser state follows the model's device
}

std::string TrainingCheckpoint::text(const char* key)
{
    c10::IValue saved;
    return archive_.try_read(key, saved) && saved.isString() ? saved.toStringRef() : std::string();
}

int64_t TrainingCheckpoint::step()
{
    c10::IValue saved;
    archive_.read("step", saved);
    return saved.toInt();
}

std::string TrainingCheckpoint::config()
{
    c10::IValue saved;
    archive_.read("config", saved);
    return saved.toStringRef();
}

json TrainingCheckpoint::interventions()
{
    const std::string saved = text("interventions");
    return saved.empty() ? json::array() : json::parse(saved);
}

json TrainingCheckpoint::monitor()
{
    const std::string saved = text("monitor");
    return saved.empty() ? json() : json::parse(saved);
}

std::string TrainingCheckpoint::optimizerType()
{
    const json saved = json::parse(text("config"), nullptr, false);
    const json::json_pointer field("/training/optimizer/type");
    return saved.is_object() && saved.contains(field) && saved[field].is_string() ? saved[field].get<std::string>() : std::string();
}

void TrainingCheckpoint::restore(const TrainingObjects& objects)
{
    torch::serialize::InputArchive modelArchive, optimizerArchive;
    archive_.read("model", modelArchive);
    loadMatching(objects.model, modelArchive);
    archive_.read("optimizer", optimizerArchive);
    objects.optimizer.load(optimizerArchive);
    // A parameter the optimiser has state for had a gradient before the checkpoint. In an
    // uninterrupted run it keeps one (zeroed each step), so a step that does not train its
    // task still moves it by momentum; giving it a zero gradient again makes a resumed
    // multi-task run train exactly as an uninterrupted one.
    for (auto& group : objects.optimizer.param_groups())
        for (auto& p : group.params())
            if (objects.optimizer.state().count(c10::guts::to_string(p.unsafeGetTensorImpl())))
                p.mutable_grad() = torch::zeros_like(p);
    torch::NoGradGuard noGrad;
    const auto weightingState = objects.weighting.state();
    for (size_t i = 0; i < weightingState.size(); ++i) {
        torch::Tensor saved;
        if (archive_.try_read("weighting_" + std::to_string(i), saved))
            weightingState[i].copy_(saved);
    }
}

std::vector<std::pair<int64_t, int64_t>> TrainingCheckpoint::restoreProgress(std::mt19937_64& rng, torch::Device device)
{
    c10::IValue rngState, cursors;
    archive_.read("rng_engine", rngState);
    std::istringstream(rngState.toStringRef()) >> rng;
    torch::Tensor torchState;
    archive_.read("rng_torch", torchState);
    {
        at::Generator generator = at::detail::getDefaultCPUGenerator();
        generator.set_state(torchState.cpu());
    }
    torch::Tensor cudaState;
    if (device.is_cuda() && archive_.try_read("rng_cuda", cudaState)) {
        at::Generator generator = at::globalContext().defaultGenerator(device);
        generator.set_state(cudaState.cpu());
    }
    archive_.read("streams", cursors);
    std::vector<std::pair<int64_t, int64_t>> streams;
    for (const auto& s : json::parse(cursors.toStringRef()))
        streams.emplace_back(s.at(0).get<int64_t>(), s.at(1).get<int64_t>());
    return streams;
}

void keepCheckpoint(const RunPaths& paths, int64_t step, int64_t keep, const std::function<void(const std::string&)>& warn)
{
    std::error_code ec;
    const std::string target = paths.keptCheckpoint(step);
    fs::create_directories(paths.kept, ec);
    fs::remove(target, ec);
    fs::create_hard_link(paths.checkpoint, target, ec);
    if (ec) {
        try {
            writeFileAtomicallyWith(target, [&](const std::string& tmp) { fs::copy_file(paths.checkpoint, tmp, fs::copy_options::overwrite_existing); });
        } catch (const std::exception& e) {
            warn(target + ": could not keep the checkpoint of step " + std::to_string(step) + " (" + messageOf(e) + ")");
            return;
        }
    }
    const std::vector<long long> steps = keptCheckpointSteps(paths.dir);
    for (size_t i = 0; i + static_cast<size_t>(keep) < steps.size(); ++i) {
        fs::remove(paths.keptCheckpoint(steps[i]), ec);
        if (ec)
            warn(paths.keptCheckpoint(steps[i]) + ": could not remove an old kept checkpoint (" + ec.message() + ")");
    }
}

} // namespace omnilab
