#include "core/engine/Query.h"

#include <chrono>
#include <filesystem>
#include <sstream>

#include "core/runtime/Autocast.h"
#include "core/engine/Model.h"
#include "core/engine/RunSession.h"
#include "core/engine/Trainer.h"
#include "core/media/Video.h"
#include "core/text/Vocabulary.h"
#include "core/util/Limits.h"

namespace omnilab {

namespace fs = std::filesystem;

namespace {

// A query's input file: missing, a folder and a FIFO or device each say what they are.
void requireRegularFile(const std::string& file)
{
    std::error_code ec;
    const auto st = fs::status(file, ec);
    if (!fs::exists(st))
        throw Error(file + ": no such file");
    if (fs::is_directory(st))
        throw Error(file + ": is a folder, not a file");
    if (!fs::is_regular_file(st))
        throw Error(file + ": is not a regular file (a FIFO, socket or device cannot be decoded)");
}

// Token ids of typed text in a word vocabulary: each whitespace-separated token as it is,
// else as the vocabulary's tokenizer splits it (lower case, punctuation off), else <unk>.
torch::Tensor encodeWords(const std::string& text, const std::vector<std::string>& pieces, const std::string& what)
{
    std::map<std::string, int64_t> ids;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].rfind("\xe2\x96\x81", 0) == 0)
            throw Error(what + ": the run's text is SentencePiece-tokenized; typed queries need a word tokenizer for now");
        ids.emplace(pieces[i], static_cast<int64_t>(i));
    }
    std::vector<int64_t> out;
    std::istringstream in(text);
    for (std::string token; in >> token;) {
        auto exact = ids.find(token);
        if (exact != ids.end()) {
            out.push_back(exact->second);
            continue;
        }
        for (const auto& word : wordTokens(token)) {
            auto found = ids.find(word);
            out.push_back(found == ids.end() ? Vocabulary::Unknown : found->second);
        }
    }
    if (out.empty())
        throw Error(what + ": no words in \"" + text + "\"");
    return torch::tensor(out, torch::kLong).unsqueeze(0);
}

bool provides(const DatasetSpec& spec, const std::string& input)
{
    const auto& list = datasetFormats().info(spec.format).provides;
    return std::find(list.begin(), list.end(), input) != list.end();
}

// The attention the decoder paid while producing `best` (class ids, −100 after the end).
nlohmann::json attentionOf(MultiTaskModel& model, const std::string& task, const std::map<std::string, torch::Tensor>& encoded,
                           const std::map<std::string, torch::Tensor>& masks, const torch::Tensor& best, const std::vector<std::string>& names)
{
    std::vector<int64_t> ids;
    nlohmann::json words = nlohmann::json::array();
    for (int64_t i = 0; i < best.size(0) && best[i].item<int64_t>() >= 0; ++i) {
        ids.push_back(best[i].item<int64_t>());
        words.push_back(ids.back() < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(ids.back())] : std::to_string(ids.back()));
    }
    // The decoder inputs of the last step: the task embedding and every output but the last.
    std::vector<int64_t> fed(ids.begin(), ids.empty() ? ids.end() : ids.end() - 1);
    const auto tokens = torch::tensor(fed, torch::kLong).view({1, static_cast<int64_t>(fed.size())}).to(model.device());
    auto* source = capabilityOf<AttentionSource>(model.body());
    if (!source)
        throw Error("task \"" + task + "\": this run's body does not report its attention (it lacks the \"" + std::string(capability::Attention) + "\" capability)");
    const DecoderAttention a = source->decoderAttention(task, encoded, masks, tokens);
    auto nested = [](const torch::Tensor& t) { // 1 × heads × steps × keys -> [head][step][key]
        const auto c = t.squeeze(0).to(torch::kCPU).to(torch::kFloat).contiguous();
        nlohmann::json heads = nlohmann::json::array();
        for (int64_t h = 0; h < c.size(0); ++h) {
            nlohmann::json steps = nlohmann::json::array();
            for (int64_t q = 0; q < c.size(1); ++q) {
                const auto row = c[h][q].contiguous();
                steps.push_back(std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel()));
            }
            heads.push_back(steps);
        }
        return heads;
    };
    nlohmann::json out = a.properties;
    out["outputs"] = words;
    out["inputs"] = nlohmann::json::array();
    out["layers"] = nlohmann::json::array();
    auto input = encoded.begin();
    for (const auto& link : a.links) {
        out["inputs"].push_back({{"name", input->first}, {"t", link.t}, {"s", link.s}, {"temporal_offset", link.temporalOffset}, {"spatial_offset", link.spatialOffset}});
        ++input;
    }
    for (size_t l = 0; l < a.temporal.size(); ++l) {
        nlohmann::json layer{{"temporal", nested(a.temporal[l])}};
        if (l < a.spatial.size())
            layer["spatial"] = nested(a.spatial[l]);
        if (l < a.gate.size())
            layer["gate"] = nested(a.gate[l]);
        out["layers"].push_back(layer);
    }
    return out;
}

// An image (C × H × W) or video (T × C × H × W) sample as 8-bit RGB frames: bytes as they
// are, floats stretched from their own range (a decoder's output may be normalised).
std::vector<RgbImage> framesOf(const torch::Tensor& sample)
{
    std::vector<RgbImage> frames;
    const auto video = sample.dim() == 4 ? sample : sample.dim() == 3 ? sample.unsqueeze(0) : torch::Tensor();
    if (!video.defined())
        return frames;
    for (int64_t f = 0; f < video.size(0); ++f) {
        auto x = video[f].to(torch::kCPU);
        if (x.scalar_type() != torch::kUInt8) {
            x = x.to(torch::kFloat);
            const double lo = x.min().item<double>(), hi = x.max().item<double>();
            x = ((x - lo) / std::max(hi - lo, 1e-12) * 255.0).round().clamp(0, 255).to(torch::kUInt8);
        }
        if (x.size(0) == 1)
            x = x.expand({3, -1, -1});
        x = x.narrow(0, 0, 3).permute({1, 2, 0}).contiguous();
        RgbImage img;
        img.height = static_cast<int>(x.size(0));
        img.width = static_cast<int>(x.size(1));
        img.pixels.assign(x.data_ptr<uint8_t>(), x.data_ptr<uint8_t>() + x.numel());
        frames.push_back(std::move(img));
    }
    return frames;
}

// A dataset sample's target in words: its class, or its sequence (the first reference of
// several) without padding and markers.
std::string referenceText(torch::Tensor target, const std::vector<std::string>& names)
{
    target = target.to(torch::kCPU).to(torch::kLong);
    if (target.dim() == 2)
        target = target[0];
    auto word = [&](int64_t id) { return id >= 0 && id < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(id)] : std::to_string(id); };
    if (target.dim() == 0)
        return word(target.item<int64_t>());
    std::string out;
    for (int64_t i = 0; i < target.size(0); ++i) {
        const int64_t id = target[i].item<int64_t>();
        if (id < 0)
            continue;
        const std::string w = word(id);
        if (w == "<eos>")
            break;
        if (w == "<bos>" || w == "<pad>")
            continue;
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

QueryResult answer(const Experiment& exp, std::map<std::string, DatasetSplits>& data, MultiTaskModel& model, const TaskSpec* task,
                   const QueryRequest& q)
{
    if (q.beam < 1)
        throw Error("beam width must be at least 1, got " + std::to_string(q.beam));
    // Each hypothesis carries its own decoding state: 100 000 of them took over 8 GB.
    const int64_t maxBeam = limitOf(Limit::BeamWidth);
    if (q.beam > maxBeam)
        throw Error("beam width " + std::to_string(q.beam) + " is over the limit of " + std::to_string(maxBeam) +
                    " (each hypothesis keeps its own decoding state) " + raiseHint(Limit::BeamWidth));
    const int64_t maxLength = limitOf(Limit::OutputLength);
    if (q.maxLength > maxLength)
        throw Error("max length " + std::to_string(q.maxLength) + " is over the limit of " + std::to_string(maxLength) + " " + raiseHint(Limit::OutputLength));
    if (q.minLength < 0 || q.minLength > maxLength)
        throw Error("min length " + std::to_string(q.minLength) + " is outside 0 … " + std::to_string(maxLength));
    if (q.maxLength > 0 && q.minLength > q.maxLength)
        throw Error("min length " + std::to_string(q.minLength) + " is over the max length " + std::to_string(q.maxLength));

    if (!model.generates())
        throw Error("task \"" + q.task + "\": this run's body does not decode outputs (queries need a body with the \"" + std::string(capability::Generates)
                    + "\" capability)");
    c10::InferenceMode inference;
    AutocastScope autocast(model.precision(), model.device());

    QueryResult result;
    result.task = q.task;
    std::map<std::string, torch::Tensor> raw; // input name -> 1 × … sample
    auto dataFor = [&](const std::string& input) -> const DatasetSplits& {
        if (provides(exp.dataset(task->dataset), input))
            return data.at(task->dataset);
        for (const auto& spec : exp.datasets)
            if (provides(spec, input))
                return data.at(spec.name);
        throw Error("no dataset of this run reads " + input + " input, so the run cannot decode it");
    };
    for (const auto& [input, file] : {std::pair<std::string, std::string>{"image", q.image}, {"video", q.video}, {"audio", q.audio}}) {
        if (file.empty())
            continue;
        if (input == "video" && q.middleFrame) {
            // The clip's middle frame as an image, at the size the task's images have (t = 1,
            // the image domain: what separates appearance from the temporal path).
            requireRegularFile(file);
            if (!q.image.empty())
                throw Error("a query gives an image or a video's middle frame, not both");
            const auto& o = exp.dataset(task->dataset).options;
            const auto size = o.contains("image_size") ? o["image_size"].get<std::vector<int>>() : std::vector<int>{224, 224};
            const auto frames = decodeVideoFrames(file, {probeVideo(file).frameCount / 2}, size.at(0), size.at(1));
            raw["image"] = frames[0].unsqueeze(0);
            continue;
        }
        requireRegularFile(file);
        if (input == "video" && std::none_of(exp.datasets.begin(), exp.datasets.end(), [](const DatasetSpec& d) { return provides(d, "video"); })) {
            // A run that never read video (an image-captioning model): OmniNet's sampler (every
            // 4th frame, up to 16) at the size the task's images have.
            const auto& o = exp.dataset(task->dataset).options;
            const auto size = o.contains("image_size") ? o["image_size"].get<std::vector<int>>() : std::vector<int>{224, 224};
            const auto frames = decodeVideoFrames(file, omninetFrameIndices(probeVideo(file).frameCount, 16), size.at(0), size.at(1));
            raw["video"] = frames.unsqueeze(0);
            raw["video_mask"] = torch::ones({1, frames.size(0)}, torch::kBool);
            continue;
        }
        for (auto& [name, tensor] : dataFor(input).train->loadSample(file))
            raw[name] = tensor.unsqueeze(0);
        if (!raw.count(input))
            throw Error(file + ": the dataset reading it gave no " + input);
    }
    std::map<std::string, std::vector<std::string>> textTokens;
    if (q.sample >= 0) {
        // A sample of the task's dataset, exactly as training reads it.
        if (!q.image.empty() || !q.video.empty() || !q.audio.empty() || !q.text.empty() || !q.question.empty())
            throw Error("a query asks about a dataset sample or about files and text, not both");
        auto ds = data.at(task->dataset).split(q.split);
        if (!ds)
            throw Error("dataset \"" + task->dataset + "\" has no " + q.split + " split");
        if (q.sample >= ds->size())
            throw Error("no sample " + std::to_string(q.sample) + " in the " + q.split + " split of \"" + task->dataset + "\" (it holds " +
                        std::to_string(ds->size()) + ")");
        const Batch b = ds->batch({q.sample});
        for (const auto& [name, tensor] : b.inputs)
            raw[name] = tensor;
        for (const char* input : {"text", "question"}) {
            if (!raw.count(input))
                continue;
            const auto pieces = ds->inputVocabulary(input);
            const auto ids = raw[input][0];
            const auto mask = raw.count(std::string(input) + "_mask") ? raw[std::string(input) + "_mask"][0] : torch::ones_like(ids, torch::kBool);
            for (int64_t i = 0; i < ids.size(0); ++i) {
                if (!mask[i].item<bool>())
                    continue;
                const int64_t id = ids[i].item<int64_t>();
                textTokens[input].push_back(id >= 0 && id < static_cast<int64_t>(pieces.size()) ? pieces[static_cast<size_t>(id)] : std::to_string(id));
            }
        }
        if (b.target.defined() && b.target.dim() >= 1) {
            result.reference = referenceText(b.target[0], ds->classNames());
            if (b.target.dim() == 3) // B × R × T: every reference
                for (int64_t r = 0; r < b.target.size(1); ++r) {
                    std::string text = referenceText(b.target[0][r], ds->classNames());
                    if (!text.empty())
                        result.references.push_back(std::move(text));
                }
        }
    }
    for (const auto& [input, text] : {std::pair<std::string, std::string>{"text", q.text}, {"question", q.question}}) {
        if (text.empty())
            continue;
        std::vector<std::string> pieces;
        if (task->inputs.count(input))
            pieces = data.at(task->dataset).train->inputVocabulary(input);
        for (const auto& spec : exp.datasets)
            if (pieces.empty())
                pieces = data.at(spec.name).train->inputVocabulary(input);
        if (pieces.empty())
            throw Error("no dataset of this run has a " + input + " vocabulary");
        raw[input] = encodeWords(text, pieces, "--" + input);
        raw[input + "_mask"] = torch::ones_like(raw[input], torch::kBool);
        // The pieces the model read, for the inspector's steps × tokens matrix.
        auto& labels = textTokens[input];
        const auto ids = raw[input][0];
        for (int64_t i = 0; i < ids.size(0); ++i) {
            const int64_t id = ids[i].item<int64_t>();
            labels.push_back(id >= 0 && id < static_cast<int64_t>(pieces.size()) ? pieces[static_cast<size_t>(id)] : std::to_string(id));
        }
    }

    // Each given input goes through the peripheral the task binds to it; a video through the
    // image peripheral (and an image through the video one) is the zero-shot case.
    std::map<std::string, torch::Tensor> encoded, masks;
    std::map<std::string, std::string> givenAs; // the task's input -> the input given for it ("image" -> "video" zero-shot)
    std::string expected;
    for (const auto& [input, peripheral] : task->inputs)
        expected += (expected.empty() ? "" : ", ") + input;
    const torch::Device device = model.device();
    for (const char* input : {"image", "video", "audio", "text", "question"}) {
        if (!raw.count(input))
            continue;
        std::string bound = input;
        if (!task->inputs.count(bound)) {
            const std::string other = bound == "video" ? "image" : bound == "image" ? "video" : "";
            if (other.empty() || !task->inputs.count(other))
                throw Error("task \"" + q.task + "\" takes " + expected + "; it has no use for --" + input);
            bound = other;
            result.zeroShot = true;
        }
        // Keyed by the task's own input: a clip sent to an image task is encoded in the
        // domain that input has (the image domain its captions trained in), whatever
        // domain videos have for the run's video tasks.
        if (encoded.count(bound))
            throw Error("task \"" + q.task + "\" takes one " + bound + " input; give --image or --video, not both");
        givenAs[bound] = input;
        encoded[bound] = model.peripheral(task->inputs.at(bound)).forward(raw.at(input).to(device));
        if (raw.count(std::string(input) + "_mask"))
            masks[bound + "_mask"] = raw.at(std::string(input) + "_mask").to(device);
        result.inputs.push_back(bound == input ? std::string(input) : std::string(input) + " (through the " + bound + " input's peripheral)");
    }
    for (const auto& [input, peripheral] : task->inputs) {
        const bool given = raw.count(input) || (input == "image" && raw.count("video")) || (input == "video" && raw.count("image"));
        if (!given)
            throw Error("task \"" + q.task + "\" needs --" + input + " (it takes " + expected + ")");
    }

    GenerateOptions options;
    options.beam = q.beam;
    options.maxLength = q.maxLength;
    options.lengthPenalty = q.lengthPenalty;
    options.minLength = q.minLength;
    options.cache = q.cache;
    const auto decodeStart = std::chrono::steady_clock::now();
    const Generation g = capabilityOf<SequenceGenerator>(model.body())->generate(q.task, encoded, masks, options);
    result.decodeMilliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - decodeStart).count();
    const auto names = data.at(task->dataset).train->classNames();
    const auto tokens = g.tokens.to(torch::kCPU), scores = toFloat32(g.scores).to(torch::kCPU);
    for (int64_t k = 0; k < tokens.size(1); ++k) {
        std::string text;
        for (int64_t i = 0; i < tokens.size(2); ++i) {
            const int64_t id = tokens[0][k][i].item<int64_t>();
            if (id < 0 || id >= static_cast<int64_t>(names.size()))
                break;
            const std::string& w = names[static_cast<size_t>(id)];
            if (w == "<eos>")
                break;
            if (w == "<bos>" || w == "<pad>")
                continue;
            text += (text.empty() ? "" : " ") + w;
        }
        result.best.push_back({text, scores[0][k].item<double>()});
    }
    if (q.attention) {
        auto attention = attentionOf(model, q.task, encoded, masks, tokens[0][0], names);
        for (auto& in : attention["inputs"])
            if (givenAs.count(in.value("name", std::string())))
                in["name"] = givenAs.at(in["name"].get<std::string>()); // what the user gave: "video"
        for (auto& in : attention["inputs"])
            if (textTokens.count(in.value("name", std::string())))
                in["tokens"] = textTokens.at(in["name"].get<std::string>());
        result.attentionJson = attention.dump();
    }
    if (q.attention || q.frames)
        for (const char* input : {"video", "image"})
            if (raw.count(input)) {
                result.frames = framesOf(raw.at(input)[0]);
                break;
            }
    return result;
}

} // namespace

namespace {

const TaskSpec& findTask(const Experiment& exp, const std::string& name)
{
    auto t = std::find_if(exp.tasks.begin(), exp.tasks.end(), [&](const TaskSpec& spec) { return spec.name == name; });
    if (t == exp.tasks.end()) {
        std::string taskNames;
        for (const auto& spec : exp.tasks)
            taskNames += (taskNames.empty() ? "" : ", ") + spec.name;
        throw Error("the run has no task \"" + name + "\" (tasks: " + taskNames + ")");
    }
    return *t;
}

} // namespace

struct QuerySession::Impl {
    Experiment exp;
    std::map<std::string, DatasetSplits> data;
    std::unique_ptr<MultiTaskModel> model;
    int64_t step = 0;

    const TaskSpec& task(const std::string& name) const { return findTask(exp, name); }
};

namespace {

Experiment loadRunExperiment(const std::string& runDir)
{
    RunPaths paths(runDir);
    if (!fs::is_regular_file(paths.config))
        throw Error(runDir + ": not a run directory (no config.json)");
    return Experiment::load(paths.config);
}

} // namespace

QuerySession::QuerySession(const std::string& runDir, const std::string& checkpoint) : impl_(std::make_unique<Impl>())
{
    auto run = openRunSession(runDir, checkpoint);
    impl_->exp = std::move(run->experiment);
    impl_->data = std::move(run->data);
    impl_->model = std::move(run->model);
    impl_->step = run->step;
}

QuerySession::~QuerySession() = default;

QueryResult QuerySession::ask(const QueryRequest& request)
{
    return answer(impl_->exp, impl_->data, *impl_->model, &impl_->task(request.task), request);
}

int64_t QuerySession::splitSize(const std::string& task, const std::string& split) const
{
    const auto ds = impl_->data.at(impl_->task(task).dataset).split(split);
    return ds ? ds->size() : 0;
}

int64_t QuerySession::step() const { return impl_->step; }

std::vector<std::string> QuerySession::taskNames() const
{
    std::vector<std::string> names;
    for (const auto& t : impl_->exp.tasks)
        names.push_back(t.name);
    return names;
}

std::vector<QueryResult> runQueries(const std::string& runDir, const std::vector<QueryRequest>& requests, const std::string& checkpoint)
{
    // Every request's task is found before the (slow) model load, so a typo fails at once.
    const Experiment exp = loadRunExperiment(runDir);
    for (const auto& q : requests)
        findTask(exp, q.task);
    QuerySession session(runDir, checkpoint);
    std::vector<QueryResult> results;
    for (const auto& q : requests)
        results.push_back(session.ask(q));
    return results;
}

QueryResult runQuery(const std::string& runDir, const QueryRequest& q) { return runQueries(runDir, {q}).front(); }

} // namespace omnilab
