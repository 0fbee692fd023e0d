#pragma once
// A confusion matrix over class ids and the scores read from it: accuracy, per-class and
// macro precision / recall / F1, micro F1. Classes that occur neither in truth nor in the
// predictions are left out of macro averages. Torch-free (the GUI draws the matrix).
#include <algorithm>
#include <cstdint>
#include <vector>

namespace omnilab {

// One evaluated sample of a classification task: its position in the split (-1 when it
// cannot be told: a batch lost samples to on_error skip), the true and the predicted class,
// and the model's probability of the predicted class.
struct ClassifiedSample {
    int64_t index = -1;
    int64_t truth = 0;
    int64_t predicted = 0;
    double confidence = 0;
};

class ConfusionMatrix {
public:
    explicit ConfusionMatrix(int64_t classes = 0) { resize(classes); }
    void resize(int64_t classes)
    {
        classes_ = classes;
        counts_.assign(static_cast<size_t>(classes * classes), 0);
    }
    int64_t classes() const { return classes_; }
    void add(int64_t truth, int64_t predicted, int64_t n = 1)
    {
        if (truth >= 0 && truth < classes_ && predicted >= 0 && predicted < classes_)
            counts_[static_cast<size_t>(truth * classes_ + predicted)] += n;
    }
    int64_t cell(int64_t truth, int64_t predicted) const { return counts_[static_cast<size_t>(truth * classes_ + predicted)]; }
    // The samples behind the counts, when the evaluation kept them (evaluateTask does).
    std::vector<ClassifiedSample> samples;
    // The kept samples of one cell, the most confident first (the drill-down from a cell).
    std::vector<ClassifiedSample> samplesIn(int64_t truth, int64_t predicted) const
    {
        std::vector<ClassifiedSample> out;
        for (const auto& s : samples)
            if (s.truth == truth && s.predicted == predicted)
                out.push_back(s);
        std::stable_sort(out.begin(), out.end(), [](const ClassifiedSample& a, const ClassifiedSample& b) { return a.confidence > b.confidence; });
        return out;
    }
    // Every kept sample the model got wrong, the most confident first: where a wrong label
    // or a real blind spot shows up first.
    std::vector<ClassifiedSample> mistakes() const
    {
        std::vector<ClassifiedSample> out;
        for (const auto& s : samples)
            if (s.truth != s.predicted)
                out.push_back(s);
        std::stable_sort(out.begin(), out.end(), [](const ClassifiedSample& a, const ClassifiedSample& b) { return a.confidence > b.confidence; });
        return out;
    }
    int64_t total() const
    {
        int64_t n = 0;
        for (auto c : counts_)
            n += c;
        return n;
    }
    double accuracy() const
    {
        int64_t correct = 0;
        for (int64_t c = 0; c < classes_; ++c)
            correct += cell(c, c);
        return total() == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(total());
    }
    struct Counts {
        int64_t tp = 0, fp = 0, fn = 0;
    };
    Counts counts(int64_t c) const
    {
        Counts k{cell(c, c), 0, 0};
        for (int64_t o = 0; o < classes_; ++o)
            if (o != c) {
                k.fp += cell(o, c);
                k.fn += cell(c, o);
            }
        return k;
    }
    enum class Score { Precision, Recall, F1 };
    // Macro average over the classes that occur (in truth or prediction).
    double macro(Score score) const
    {
        double sum = 0;
        int used = 0;
        for (int64_t c = 0; c < classes_; ++c) {
            const Counts k = counts(c);
            if (k.tp + k.fp + k.fn == 0)
                continue;
            ++used;
            sum += value(score, k);
        }
        return used == 0 ? 0.0 : sum / used;
    }
    // Micro average: counts pooled over classes. With one label per sample, micro precision,
    // recall and F1 all equal the accuracy.
    double micro(Score score) const
    {
        Counts pooled;
        for (int64_t c = 0; c < classes_; ++c) {
            const Counts k = counts(c);
            pooled.tp += k.tp;
            pooled.fp += k.fp;
            pooled.fn += k.fn;
        }
        return value(score, pooled);
    }

private:
    static double value(Score score, const Counts& k)
    {
        const auto tp = static_cast<double>(k.tp), fp = static_cast<double>(k.fp), fn = static_cast<double>(k.fn);
        switch (score) {
        case Score::Precision: return tp + fp == 0 ? 0.0 : tp / (tp + fp);
        case Score::Recall: return tp + fn == 0 ? 0.0 : tp / (tp + fn);
        case Score::F1: return 2 * tp + fp + fn == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
        }
        return 0.0;
    }
    int64_t classes_ = 0;
    std::vector<int64_t> counts_;
};

// Area under the ROC curve of scores for a binary truth (ties count one half): the
// probability that a random positive scores above a random negative. 0.5 when one class is absent.
double rocAuc(const std::vector<double>& scores, const std::vector<bool>& positive);

} // namespace omnilab
