#include "core/data/Preview.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "core/api/Registries.h"
#include "core/media/Audio.h"

namespace omnilab {

namespace {

// C × H × W (uint8, or float scaled by its own range) -> RGB, longest side at most `size`.
RgbImage toRgb(torch::Tensor chw, int size)
{
    if (chw.dim() == 2)
        chw = chw.unsqueeze(0);
    if (chw.scalar_type() != torch::kUInt8) {
        auto f = chw.to(torch::kFloat);
        const float lo = f.min().item<float>(), hi = f.max().item<float>();
        chw = ((f - lo) / std::max(hi - lo, 1e-6f) * 255.0f).round().to(torch::kUInt8);
    }
    if (chw.size(0) == 1)
        chw = chw.expand({3, chw.size(1), chw.size(2)});
    auto hwc = chw.narrow(0, 0, 3).permute({1, 2, 0}).contiguous();
    cv::Mat mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
    const double scale = std::min(1.0, static_cast<double>(size) / std::max(mat.cols, mat.rows));
    cv::Mat out;
    if (scale < 1.0)
        cv::resize(mat, out, cv::Size(std::max(1, static_cast<int>(mat.cols * scale)), std::max(1, static_cast<int>(mat.rows * scale))), 0, 0, cv::INTER_AREA);
    else
        out = mat.clone();
    RgbImage img{out.cols, out.rows, {}};
    img.pixels.assign(out.data, out.data + static_cast<size_t>(out.cols) * static_cast<size_t>(out.rows) * 3);
    return img;
}

// F × T spectrogram -> an image with low frequencies at the bottom, in the viridis colour map.
RgbImage spectrogramImage(const torch::Tensor& ft, int width, int height)
{
    auto f = ft.to(torch::kFloat).flip({0}).contiguous();
    const float lo = f.min().item<float>(), hi = f.max().item<float>();
    auto bytes = ((f - lo) / std::max(hi - lo, 1e-6f) * 255.0f).round().to(torch::kUInt8).contiguous();
    cv::Mat grey(static_cast<int>(bytes.size(0)), static_cast<int>(bytes.size(1)), CV_8UC1, bytes.data_ptr<uint8_t>());
    cv::Mat scaled, coloured, rgb;
    cv::resize(grey, scaled, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
    cv::applyColorMap(scaled, coloured, cv::COLORMAP_VIRIDIS);
    cv::cvtColor(coloured, rgb, cv::COLOR_BGR2RGB);
    RgbImage img{rgb.cols, rgb.rows, {}};
    img.pixels.assign(rgb.data, rgb.data + static_cast<size_t>(rgb.cols) * static_cast<size_t>(rgb.rows) * 3);
    return img;
}

// The envelope of a waveform: per column the min and max sample, drawn dark on white.
RgbImage waveformImage(const torch::Tensor& samples, int width, int height)
{
    RgbImage img{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * static_cast<size_t>(height) * 3, 255)};
    auto s = samples.to(torch::kFloat).contiguous();
    const int64_t n = s.numel();
    if (n == 0)
        return img;
    const float* x = s.data_ptr<float>();
    const float peak = std::max(1e-6f, s.abs().max().item<float>());
    auto put = [&](int c, int r) {
        uint8_t* p = &img.pixels[(static_cast<size_t>(r) * static_cast<size_t>(width) + static_cast<size_t>(c)) * 3];
        p[0] = 40, p[1] = 90, p[2] = 170;
    };
    for (int c = 0; c < width; ++c) {
        const int64_t a = n * c / width, b = std::max(a + 1, n * (c + 1) / width);
        float lo = x[a], hi = x[a];
        for (int64_t i = a; i < b && i < n; ++i) {
            lo = std::min(lo, x[i]);
            hi = std::max(hi, x[i]);
        }
        auto row = [&](float v) { return std::clamp(static_cast<int>((1.0f - (v / peak + 1.0f) / 2.0f) * static_cast<float>(height - 1)), 0, height - 1); };
        for (int r = row(hi); r <= row(lo); ++r)
            put(c, r);
    }
    return img;
}

std::string decodeTokens(const torch::Tensor& ids, const torch::Tensor* mask, const std::vector<std::string>& vocab, size_t limit)
{
    std::string out;
    const bool pieces = std::any_of(vocab.begin(), vocab.end(), [](const std::string& p) { return p.rfind("\xE2\x96\x81", 0) == 0; }); // "▁"
    for (int64_t i = 0; i < ids.size(0) && out.size() < limit; ++i) {
        if (mask && !(*mask)[i].item<bool>())
            continue;
        const int64_t id = ids[i].item<int64_t>();
        if (id < 0 || id >= static_cast<int64_t>(vocab.size()) || id == 0 || id == 2 || id == 3)
            continue; // padding and sentence markers
        std::string piece = vocab[static_cast<size_t>(id)];
        if (pieces) {
            if (piece.rfind("\xE2\x96\x81", 0) == 0)
                piece = (out.empty() ? "" : " ") + piece.substr(3);
            out += piece;
        } else {
            out += (out.empty() ? "" : " ") + piece;
        }
    }
    if (out.size() > limit)
        out = out.substr(0, limit) + "…";
    return out;
}

std::string className(const std::vector<std::string>& names, int64_t id)
{
    if (id < 0)
        return "(none)";
    return id < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(id)] : "#" + std::to_string(id);
}

// The target of one sample, in words.
std::string describeTarget(const torch::Tensor& target, const std::vector<std::string>& names, const std::string& format)
{
    if (!target.defined())
        return "";
    if (target.dim() == 0)
        return className(names, target.item<int64_t>());
    if (format == "vqa-v2" && target.dim() == 1 && target.size(0) == 11) {
        std::string out = "answer: " + className(names, target[0].item<int64_t>()) + " (annotators:";
        for (int64_t k = 1; k < 11; ++k)
            out += std::string(k == 1 ? " " : ", ") + className(names, target[k].item<int64_t>());
        return out + ")";
    }
    if (target.dim() == 2) { // captions: R × T
        std::string out;
        for (int64_t r = 0; r < target.size(0); ++r) {
            const std::string caption = decodeTokens(target[r], nullptr, names, 400);
            if (!caption.empty())
                out += (out.empty() ? "" : " | ") + caption;
        }
        return out;
    }
    std::string out; // tags per token
    for (int64_t i = 0; i < target.size(0); ++i) {
        const int64_t id = target[i].item<int64_t>();
        if (id == -100)
            continue;
        out += (out.empty() ? "" : " ") + className(names, id);
    }
    return out;
}

} // namespace

struct DatasetBrowser::Impl {
    std::string format;
    DatasetSplits splits;
    std::vector<std::string> inputs;
    DatasetSplits waveforms; // speech-commands read again as waveforms, for the waveform view
};

DatasetBrowser::DatasetBrowser(const std::string& format, const nlohmann::json& options) : impl_(std::make_unique<Impl>())
{
    const ComponentInfo info = datasetFormats().info(format);
    std::vector<ConfigIssue> issues;
    info.options.validate(options, "", issues);
    if (!issues.empty())
        throw ConfigError("dataset (" + format + ")", issues);
    const nlohmann::json filled = info.options.withDefaults(options);
    impl_->format = format;
    impl_->inputs = info.provides;
    impl_->splits = datasetFormats().factory(format)(filled);
    if (format == "speech-commands" && filled.value("feature", "") != "waveform") {
        nlohmann::json raw = filled;
        raw["feature"] = "waveform";
        impl_->waveforms = datasetFormats().factory(format)(raw);
    }
}

DatasetBrowser::~DatasetBrowser() = default;

const std::string& DatasetBrowser::format() const { return impl_->format; }

std::vector<std::string> DatasetBrowser::classNames() const { return impl_->splits.train ? impl_->splits.train->classNames() : std::vector<std::string>{}; }

std::vector<std::string> DatasetBrowser::inputs() const { return impl_->inputs; }

int64_t DatasetBrowser::size(const std::string& split) const
{
    auto ds = impl_->splits.split(split);
    return ds ? ds->size() : 0;
}

std::vector<int64_t> DatasetBrowser::classHistogram(const std::string& split) const
{
    auto ds = impl_->splits.split(split);
    std::vector<int64_t> counts;
    if (!ds)
        return counts;
    const auto labels = ds->labels();
    if (labels.empty())
        return counts;
    counts.assign(std::max<size_t>(classNames().size(), 1), 0);
    for (int64_t l : labels) {
        if (l < 0)
            continue;
        if (static_cast<size_t>(l) >= counts.size())
            counts.resize(static_cast<size_t>(l) + 1, 0);
        ++counts[static_cast<size_t>(l)];
    }
    return counts;
}

std::vector<std::string> DatasetBrowser::drainWarnings()
{
    std::vector<std::string> out;
    for (const auto& ds : {impl_->splits.train, impl_->splits.val, impl_->splits.test})
        if (ds)
            for (auto& w : ds->drainWarnings())
                out.push_back(std::move(w));
    return out;
}

SamplePreview DatasetBrowser::preview(const std::string& split, int64_t index, const PreviewOptions& o) const
{
    auto ds = impl_->splits.split(split);
    if (!ds || index < 0 || index >= ds->size())
        throw Error("no sample " + std::to_string(index) + " in the " + split + " split (it holds " + std::to_string(ds ? ds->size() : 0) + ")");
    Batch b = ds->batch({index});
    SamplePreview p;
    p.split = split;
    p.index = index;
    p.kind = "other";
    p.label = describeTarget(b.target.defined() && b.target.dim() > 0 ? b.target[0] : torch::Tensor(), ds->classNames(), impl_->format);
    for (const auto& [name, t] : b.inputs) {
        const torch::Tensor x = t[0];
        if (name == "image" || name == "sensory") {
            p.kind = impl_->format == "word-images" ? "handwriting" : "image";
            p.thumbnail = toRgb(x, impl_->format == "word-images" ? o.thumbnailSize * 2 : o.thumbnailSize);
        } else if (name == "video") { // T × C × H × W
            p.kind = "video";
            const int64_t frames = x.size(0), k = std::min<int64_t>(o.frames, frames);
            for (int64_t i = 0; i < k; ++i)
                p.frames.push_back(toRgb(x[k == 1 ? 0 : i * (frames - 1) / (k - 1)], o.thumbnailSize / 2));
            p.thumbnail = toRgb(x[frames / 2], o.thumbnailSize);
        } else if (name == "audio") {
            p.kind = "audio";
            torch::Tensor wave = x.dim() == 1 ? x : torch::Tensor();
            if (!wave.defined() && impl_->waveforms.split(split))
                wave = impl_->waveforms.split(split)->batch({index}).inputs.at("audio")[0];
            SpectrogramOptions so;
            const torch::Tensor spec = x.dim() == 2 ? x : logSpectrogram(wave, so);
            if (wave.defined())
                p.waveform = waveformImage(wave, o.waveformWidth, o.waveformHeight);
            p.spectrogram = spectrogramImage(spec, o.waveformWidth, o.waveformHeight * 2);
            p.thumbnail = p.spectrogram;
        } else if (name == "text" || name == "question") {
            if (p.kind == "other")
                p.kind = "text";
            auto mask = b.inputs.find(name + "_mask");
            torch::Tensor m = mask == b.inputs.end() ? torch::Tensor() : mask->second[0];
            p.text = decodeTokens(x, m.defined() ? &m : nullptr, ds->inputVocabulary(name), o.textChars);
        }
    }
    return p;
}

} // namespace omnilab
