#pragma once
// Loss-curve smoothing as TensorBoard users know it (an exponential moving average whose
// start is debiased, so the first points are not pulled towards zero), for the training
// dashboard's second, smoothed line. Torch-free.
#include <vector>

namespace omnilab {

// Smooths one point at a time: weight 0 gives the raw values back, 0.99 a very slow curve.
class CurveSmoother {
public:
    explicit CurveSmoother(double weight = 0.6) : weight_(weight) {}
    double push(double value);
    void reset() { last_ = 0, steps_ = 0; }
    double weight() const { return weight_; }

private:
    double weight_;
    double last_ = 0;
    int steps_ = 0;
};

// The whole curve at once (the same numbers as pushing every value).
std::vector<double> smoothCurve(const std::vector<double>& values, double weight);

} // namespace omnilab
