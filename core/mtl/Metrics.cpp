// The built-in metrics, registered by name for experiments' "metrics" lists. Each reads a
// head's raw output (B × classes logits, or B × 1 for regression) and the batch's target.
//   accuracy, macro-f1, micro-f1, precision, recall   from the confusion matrix of arg-max predictions
//   roc-auc       binary: of the positive class's probability; multi-class: macro one-vs-rest
//   rmse          root mean squared error of a regression output
//   vqa-accuracy  min(1, annotators who gave the predicted answer / 3) over a vqa-v2 target
//   bleu          corpus BLEU-4 of greedy decoding against every reference (captions)
//   perplexity    exp of the mean token cross-entropy (teacher forced), padding ignored
//   qbe-map, qbs-map  word spotting (OneModel): mean average precision, cosine similarity, of
//                 the head's predicted embeddings (a phoc head's sigmoid PHOCs) over the split
#include <algorithm>
#include <cmath>

#include "core/analysis/Retrieval.h"
#include "core/api/Registries.h"
#include "core/mtl/Bleu.h"
#include "core/mtl/Confusion.h"

namespace omnilab {

double rocAuc(const std::vector<double>& scores, const std::vector<bool>& positive)
{
    std::vector<size_t> order(scores.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    // Mann–Whitney U from average ranks (ties share their mean rank).
    double positives = 0, rankSum = 0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j < order.size() && scores[order[j]] == scores[order[i]])
            ++j;
        const double meanRank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
        for (size_t k = i; k < j; ++k)
            if (positive[order[k]]) {
                rankSum += meanRank;
                ++positives;
            }
        i = j;
    }
    const double negatives = static_cast<double>(scores.size()) - positives;
    if (positives == 0 || negatives == 0)
        return 0.5;
    return (rankSum - positives * (positives + 1) / 2.0) / (positives * negatives);
}

namespace {

class ConfusionMetric : public Metric {
public:
    using Reader = double (*)(const ConfusionMatrix&);
    explicit ConfusionMetric(Reader read) : read_(read) {}
    void reset() override { matrix_.resize(0); }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        auto predicted = output.argmax(-1).to(torch::kCPU).to(torch::kLong).contiguous();
        auto truth = target.to(torch::kCPU).to(torch::kLong).contiguous();
        if (matrix_.classes() != output.size(-1))
            matrix_.resize(output.size(-1));
        const int64_t* p = predicted.data_ptr<int64_t>();
        const int64_t* t = truth.data_ptr<int64_t>();
        for (int64_t i = 0; i < truth.numel(); ++i)
            matrix_.add(t[i], p[i]); // negative targets (padding, -100) are skipped
    }
    double value() const override { return read_(matrix_); }

private:
    Reader read_;
    ConfusionMatrix matrix_;
};

class RocAuc : public Metric {
public:
    void reset() override
    {
        scores_.clear();
        truth_.clear();
    }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        auto p = torch::softmax(output.to(torch::kCPU).to(torch::kDouble), -1).contiguous();
        auto t = target.to(torch::kCPU).to(torch::kLong).contiguous();
        classes_ = p.size(-1);
        for (int64_t i = 0; i < t.size(0); ++i) {
            scores_.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + classes_);
            truth_.push_back(t[i].item<int64_t>());
        }
    }
    double value() const override
    {
        auto auc = [&](int64_t c) {
            std::vector<double> s;
            std::vector<bool> pos;
            for (size_t i = 0; i < truth_.size(); ++i) {
                s.push_back(scores_[i][static_cast<size_t>(c)]);
                pos.push_back(truth_[i] == c);
            }
            return rocAuc(s, pos);
        };
        if (classes_ == 2)
            return auc(1);
        double sum = 0;
        int used = 0;
        for (int64_t c = 0; c < classes_; ++c)
            if (std::count(truth_.begin(), truth_.end(), c) > 0) {
                sum += auc(c);
                ++used;
            }
        return used ? sum / used : 0.5;
    }

private:
    std::vector<std::vector<double>> scores_;
    std::vector<int64_t> truth_;
    int64_t classes_ = 0;
};

class Rmse : public Metric {
public:
    void reset() override { sum_ = 0, n_ = 0; }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        auto diff = output.to(torch::kCPU).to(torch::kDouble).reshape({-1}) - target.to(torch::kCPU).to(torch::kDouble).reshape({-1});
        sum_ += diff.pow(2).sum().item<double>();
        n_ += diff.numel();
    }
    double value() const override { return n_ == 0 ? 0.0 : std::sqrt(sum_ / static_cast<double>(n_)); }

private:
    double sum_ = 0;
    int64_t n_ = 0;
};

// VQA accuracy of arg-max answers against the ten human answers (columns 1–10 of a vqa-v2 target).
class VqaAccuracy : public Metric {
public:
    void reset() override { sum_ = 0, n_ = 0; }
    void update(const torch::Tensor& output, const torch::Tensor& target) override
    {
        auto predicted = output.argmax(-1).to(torch::kCPU).to(torch::kLong);
        auto t = target.to(torch::kCPU).to(torch::kLong);
        if (t.dim() != 2 || t.size(1) != 11)
            throw Error("metric vqa-accuracy needs the vqa-v2 target (B × 11), got " + std::to_string(t.dim()) + " dimensions");
        auto humans = t.narrow(1, 1, 10);
        auto matches = (humans == predicted.unsqueeze(1)).sum(1).to(torch::kDouble);
        sum_ += torch::clamp_max(matches / 3.0, 1.0).sum().item<double>();
        n_ += t.size(0);
    }
    double value() const override { return n_ == 0 ? 0.0 : sum_ / static_cast<double>(n_); }

private:
    double sum_ = 0;
    int64_t n_ = 0;
};

// Word spotting over the whole split: QbE queries every sample whose label occurs at least
// twice against the others; QbS queries each label present with its label embedding.
class WordSpotting : public Metric {
public:
    explicit WordSpotting(bool byExample) : byExample_(byExample) {}
    void reset() override
    {
        predictions_.clear();
        words_.clear();
        labels_ = torch::Tensor();
    }
    void update(const torch::Tensor&, const torch::Tensor&) override
    {
        throw Error(std::string("metric ") + (byExample_ ? "qbe-map" : "qbs-map") + " needs the head's embeddings; it is computed during evaluation only");
    }
    void updateWithHead(HeadModule& head, const EvalBatch& batch) override
    {
        const auto& target = batch.target;
        const auto e = head.embedding(batch.output);
        if (!e.defined())
            throw Error(std::string("metric ") + (byExample_ ? "qbe-map" : "qbs-map") + " needs a head with label embeddings (phoc); this task's head has none");
        if (!labels_.defined())
            labels_ = head.labelEmbeddings().detach().to(torch::kCPU).to(torch::kFloat).contiguous();
        const auto p = e.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
        const auto t = target.to(torch::kCPU).to(torch::kLong).contiguous();
        for (int64_t i = 0; i < p.size(0); ++i) {
            const float* row = p[i].data_ptr<float>();
            predictions_.emplace_back(row, row + p.size(1));
            words_.push_back(std::to_string(t.data_ptr<int64_t>()[i]));
        }
    }
    double value() const override
    {
        if (predictions_.empty())
            return 0.0;
        const auto queryOf = [this](const std::string& word) {
            const auto row = labels_[std::stoll(word)].contiguous();
            return std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
        };
        const SpottingResult r = wordSpotting(predictions_, words_, queryOf);
        return byExample_ ? r.qbeMap : r.qbsMap;
    }

private:
    bool byExample_;
    std::vector<std::vector<float>> predictions_;
    std::vector<std::string> words_; // class ids as text: the ranking compares labels
    torch::Tensor labels_;
};

// Class ids as words: special tokens and padding dropped, SentencePiece pieces joined.
Sentence idsToWords(const torch::Tensor& ids, const std::vector<std::string>& names)
{
    std::string text;
    bool pieces = false;
    const auto t = ids.to(torch::kCPU).to(torch::kLong).contiguous();
    for (int64_t i = 0; i < t.numel(); ++i) {
        const int64_t id = t.data_ptr<int64_t>()[i];
        if (id < 0 || id >= static_cast<int64_t>(names.size()))
            continue;
        const std::string& w = names[static_cast<size_t>(id)];
        if (w == "<bos>" || w == "<eos>" || w == "<pad>")
            continue;
        if (w.rfind("\xe2\x96\x81", 0) == 0) { // "▁": SentencePiece's word start
            pieces = true;
            text += " " + w.substr(3);
        } else {
            text += (pieces ? "" : " ") + w;
        }
    }
    return splitWords(text);
}

class Bleu : public Metric {
public:
    void reset() override
    {
        references_.clear();
        candidates_.clear();
    }
    void update(const torch::Tensor&, const torch::Tensor&) override { throw Error("metric bleu needs generated outputs; it is computed during evaluation only"); }
    bool needsGeneration() const override { return true; }
    void updateWithHead(HeadModule& head, const EvalBatch& batch) override
    {
        const auto names = head.labelNames();
        if (names.empty())
            throw Error("metric bleu needs a head that knows its words (omninet)");
        if (!batch.generated.defined())
            throw Error("metric bleu needs a body that generates (omninet)");
        const auto target = batch.target.dim() == 2 ? batch.target.unsqueeze(1) : batch.target; // B × R × T
        for (int64_t i = 0; i < target.size(0); ++i) {
            std::vector<Sentence> refs;
            for (int64_t r = 0; r < target.size(1); ++r) {
                auto ref = idsToWords(target[i][r], names);
                if (!ref.empty())
                    refs.push_back(std::move(ref));
            }
            if (refs.empty())
                continue;
            references_.push_back(std::move(refs));
            candidates_.push_back(idsToWords(batch.generated[i], names));
        }
    }
    double value() const override { return candidates_.empty() ? 0.0 : corpusBleu(references_, candidates_).bleu; }

private:
    std::vector<std::vector<Sentence>> references_;
    std::vector<Sentence> candidates_;
};

class Perplexity : public Metric {
public:
    void reset() override { sum_ = 0, n_ = 0; }
    void update(const torch::Tensor& output, const torch::Tensor& targetIn) override
    {
        auto target = targetIn.to(torch::kLong);
        if (target.dim() == output.dim()) // captions: B × R × T, the first reference
            target = target.select(1, 0);
        auto logits = output.to(torch::kFloat).reshape({-1, output.size(-1)});
        auto t = target.reshape({-1});
        auto nll = torch::nn::functional::cross_entropy(logits, t, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
        sum_ += nll.item<double>();
        n_ += (t != -100).sum().item<int64_t>();
    }
    double value() const override { return n_ == 0 ? 0.0 : std::exp(sum_ / static_cast<double>(n_)); }

private:
    double sum_ = 0;
    int64_t n_ = 0;
};

template <typename M>
MetricFactory make()
{
    return [](const nlohmann::json&) { return std::make_unique<M>(); };
}

MetricFactory fromConfusion(ConfusionMetric::Reader read)
{
    return [read](const nlohmann::json&) { return std::make_unique<ConfusionMetric>(read); };
}

using S = ConfusionMatrix::Score;

const bool registered =
    metrics().add({"accuracy", "fraction of samples whose arg-max prediction is the target", {}, {}}, fromConfusion([](const ConfusionMatrix& m) { return m.accuracy(); }))
    && metrics().add({"macro-f1", "unweighted mean over classes of F1 = 2TP / (2TP + FP + FN)", {}, {}}, fromConfusion([](const ConfusionMatrix& m) { return m.macro(S::F1); }))
    && metrics().add({"micro-f1", "F1 of the counts pooled over classes (= accuracy for one label per sample)", {}, {}},
                     fromConfusion([](const ConfusionMatrix& m) { return m.micro(S::F1); }))
    && metrics().add({"precision", "macro precision: mean over classes of TP / (TP + FP)", {}, {}}, fromConfusion([](const ConfusionMatrix& m) { return m.macro(S::Precision); }))
    && metrics().add({"recall", "macro recall: mean over classes of TP / (TP + FN)", {}, {}}, fromConfusion([](const ConfusionMatrix& m) { return m.macro(S::Recall); }))
    && metrics().add({"roc-auc", "area under the ROC curve (binary; macro one-vs-rest for more classes)", {}, {}}, make<RocAuc>())
    && metrics().add({"rmse", "root mean squared error of a regression output", {}, {}}, make<Rmse>())
    && metrics().add({"bleu", "corpus BLEU-4 (Papineni) of greedy decoding against all references; 0 … 1", {}, {}}, make<Bleu>())
    && metrics().add({"perplexity", "exp of the mean teacher-forced token cross-entropy", {}, {}}, make<Perplexity>())
    && metrics().add({"qbe-map", "word spotting, query by example: mAP (cosine) of predicted PHOCs; queries are samples whose word occurs twice or more", {}, {}},
                     [](const nlohmann::json&) { return std::make_unique<WordSpotting>(true); })
    && metrics().add({"qbs-map", "word spotting, query by string: mAP (cosine) of each word's PHOC against the predicted PHOCs", {}, {}},
                     [](const nlohmann::json&) { return std::make_unique<WordSpotting>(false); })
    && metrics().add({"vqa-accuracy", "VQA accuracy: min(1, annotators who gave the predicted answer / 3)", {}, {}}, make<VqaAccuracy>());

} // namespace
} // namespace omnilab
