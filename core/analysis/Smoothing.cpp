#include "core/analysis/Smoothing.h"

#include <cmath>

namespace omnilab {

double CurveSmoother::push(double value)
{
    if (!std::isfinite(value))
        return last_; // a NaN or ∞ point does not poison the rest of the curve
    ++steps_;
    last_ = last_ * weight_ + (1 - weight_) * value;
    const double debias = 1 - std::pow(weight_, steps_);
    return debias > 0 ? last_ / debias : value;
}

std::vector<double> smoothCurve(const std::vector<double>& values, double weight)
{
    CurveSmoother s(weight);
    std::vector<double> out;
    out.reserve(values.size());
    for (double v : values)
        out.push_back(s.push(v));
    return out;
}

} // namespace omnilab
