#pragma once
// Random numbers for the demo-data generator that are the same on every platform and
// standard library: std::mt19937_64's output is fixed by the standard, but the standard
// distributions (uniform_int, normal, shuffle) are implementation-defined, so a seed would
// give different data with libc++ than with libstdc++. Everything here is built on the raw
// 64-bit engine output only.
#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace omnilab::demo {

class DemoRandom {
public:
    explicit DemoRandom(uint64_t seed)
        : engine_(seed)
    {
    }

    // One generator per part, so the size of one part never shifts the data of another.
    static DemoRandom forPart(uint64_t seed, std::string_view part)
    {
        uint64_t h = 1469598103934665603ull; // FNV-1a of the part name
        for (unsigned char c : part)
            h = (h ^ c) * 1099511628211ull;
        return DemoRandom(splitMix(seed ^ splitMix(h)));
    }

    uint64_t next() { return engine_(); }

    // Uniform in [0, n), without modulo bias (rejects the incomplete last block).
    uint64_t below(uint64_t n)
    {
        if (n <= 1)
            return 0;
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t v;
        do
            v = engine_();
        while (v >= limit);
        return v % n;
    }
    // Uniform integer in [lo, hi], both included.
    int between(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo) + 1)); }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    bool chance(double p) { return uniform() < p; }

    // Standard normal (Box–Muller; the second value of each pair is kept for the next call).
    double normal()
    {
        if (hasSpare_) {
            hasSpare_ = false;
            return spare_;
        }
        double u = 0;
        while (u <= 0)
            u = uniform();
        const double v = uniform();
        const double r = std::sqrt(-2.0 * std::log(u));
        spare_ = r * std::sin(6.283185307179586 * v);
        hasSpare_ = true;
        return r * std::cos(6.283185307179586 * v);
    }
    double normal(double mean, double sigma) { return mean + sigma * normal(); }

    template <class T> const T& pick(const std::vector<T>& items) { return items[static_cast<size_t>(below(items.size()))]; }
    template <class T, size_t N> const T& pick(const T (&items)[N]) { return items[static_cast<size_t>(below(N))]; }
    // Index drawn with probability proportional to its weight.
    size_t weighted(const std::vector<double>& weights)
    {
        double total = 0;
        for (double w : weights)
            total += w;
        double x = uniform() * total;
        for (size_t i = 0; i < weights.size(); ++i) {
            if (x < weights[i])
                return i;
            x -= weights[i];
        }
        return weights.size() - 1;
    }
    // Fisher–Yates with our own `below` (std::shuffle's algorithm is unspecified).
    template <class T> void shuffle(std::vector<T>& items)
    {
        for (size_t i = items.size(); i > 1; --i)
            std::swap(items[i - 1], items[static_cast<size_t>(below(i))]);
    }

private:
    static uint64_t splitMix(uint64_t x)
    {
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    }

    std::mt19937_64 engine_;
    bool hasSpare_ = false;
    double spare_ = 0;
};

} // namespace omnilab::demo
