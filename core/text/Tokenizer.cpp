#include "core/text/Tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/text/SentencePieceApi.h"
#include "core/util/Error.h"

namespace omnilab {

namespace fs = std::filesystem;

std::vector<std::string> Tokenizer::pieces() const
{
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(size()));
    for (int64_t i = 0; i < size(); ++i)
        out.push_back(piece(i));
    return out;
}

// ----- words ---------------------------------------------------------------------------

namespace {

class WordTokenizer : public Tokenizer {
public:
    explicit WordTokenizer(Vocabulary v) : vocab_(std::move(v)) {}
    std::vector<int64_t> encode(const std::string& text) const override { return vocab_.encode(wordTokens(text)); }
    std::string decode(const std::vector<int64_t>& ids) const override
    {
        std::string out;
        for (int64_t id : ids) {
            if (id <= Vocabulary::End || id >= vocab_.size())
                continue;
            if (!out.empty())
                out += ' ';
            out += vocab_.word(id);
        }
        return out;
    }
    int64_t size() const override { return vocab_.size(); }
    std::string piece(int64_t id) const override { return id >= 0 && id < vocab_.size() ? vocab_.word(id) : std::string(); }
    std::string kind() const override { return "word"; }

private:
    Vocabulary vocab_;
};

} // namespace

std::shared_ptr<Tokenizer> makeWordTokenizer(Vocabulary vocabulary) { return std::make_shared<WordTokenizer>(std::move(vocabulary)); }

std::shared_ptr<Tokenizer> buildWordTokenizer(const std::vector<std::string>& texts, int64_t minCount, int64_t maxSize)
{
    std::vector<std::vector<std::string>> tokens;
    tokens.reserve(texts.size());
    for (const auto& t : texts)
        tokens.push_back(wordTokens(t));
    return makeWordTokenizer(Vocabulary::build(tokens, minCount, maxSize));
}

// ----- SentencePiece through the isolated module -----------------------------------------

namespace {

struct Module {
    const OmnilabSpmApi* api = nullptr;
    std::string error;
};

std::string modulePath()
{
    if (const char* env = std::getenv("OMNILAB_SENTENCEPIECE_MODULE"); env && *env)
        return env;
    // Beside libomnilab_core (build/lib, or wherever it was installed).
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&sentencePieceAvailable), &info) && info.dli_fname)
        return (fs::path(info.dli_fname).parent_path() / "libomnilab_sentencepiece.so").string();
    return "libomnilab_sentencepiece.so";
}

const Module& module()
{
    static Module m;
    static std::once_flag once;
    std::call_once(once, [] {
        const std::string path = modulePath();
        // RTLD_DEEPBIND: the module and its libsentencepiece resolve against their own
        // protobuf before the one libtorch brought in (docs/NOTES.md).
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!handle) {
            const char* why = dlerror();
            m.error = path + ": cannot load the SentencePiece module: " + (why ? why : "unknown error");
            return;
        }
        auto entry = reinterpret_cast<OmnilabSpmEntry>(dlsym(handle, "omnilab_spm_api"));
        const OmnilabSpmApi* api = entry ? entry() : nullptr;
        if (!api || api->version != OMNILAB_SPM_API_VERSION) {
            m.error = path + ": not an Omnilab SentencePiece module of interface version " + std::to_string(OMNILAB_SPM_API_VERSION);
            return;
        }
        m.api = api;
    });
    return m;
}

const OmnilabSpmApi& api()
{
    const Module& m = module();
    if (!m.api)
        throw Error(m.error);
    return *m.api;
}

class SentencePieceTokenizer : public Tokenizer {
public:
    SentencePieceTokenizer(void* handle, std::string kind, std::string file) : handle_(handle), kind_(std::move(kind)), file_(std::move(file))
    {
        size_ = api().pieceCount(handle_);
    }
    ~SentencePieceTokenizer() override { api().release(handle_); }
    std::vector<int64_t> encode(const std::string& text) const override
    {
        std::vector<int32_t> ids(text.size() + 8);
        int n = api().encode(handle_, text.c_str(), ids.data(), static_cast<int>(ids.size()));
        if (n > static_cast<int>(ids.size())) {
            ids.resize(static_cast<size_t>(n));
            n = api().encode(handle_, text.c_str(), ids.data(), n);
        }
        if (n < 0)
            throw Error(file_ + ": SentencePiece could not encode a text");
        return std::vector<int64_t>(ids.begin(), ids.begin() + n);
    }
    std::string decode(const std::vector<int64_t>& ids) const override
    {
        std::vector<int32_t> kept;
        for (int64_t id : ids)
            if (id > 3 && id < size_)
                kept.push_back(static_cast<int32_t>(id));
        std::string out(kept.size() * 8 + 16, '\0');
        int n = api().decode(handle_, kept.data(), static_cast<int>(kept.size()), out.data(), static_cast<int>(out.size()));
        if (n > static_cast<int>(out.size())) {
            out.resize(static_cast<size_t>(n));
            n = api().decode(handle_, kept.data(), static_cast<int>(kept.size()), out.data(), n);
        }
        if (n < 0)
            throw Error(file_ + ": SentencePiece could not decode ids");
        out.resize(static_cast<size_t>(n));
        return out;
    }
    int64_t size() const override { return size_; }
    std::string piece(int64_t id) const override
    {
        char buffer[256];
        const int n = api().piece(handle_, static_cast<int>(id), buffer, sizeof buffer);
        return n < 0 ? std::string() : std::string(buffer, static_cast<size_t>(std::min<int>(n, sizeof buffer)));
    }
    std::string kind() const override { return kind_; }

private:
    void* handle_;
    std::string kind_, file_;
    int64_t size_ = 0;
};

std::string oneLine(std::string s)
{
    for (char& c : s)
        if (c == '\n' || c == '\r')
            c = ' ';
    return s;
}

} // namespace

bool sentencePieceAvailable(std::string* why)
{
    const Module& m = module();
    if (why)
        *why = m.error;
    return m.api != nullptr;
}

std::shared_ptr<Tokenizer> loadSentencePiece(const std::string& modelFile)
{
    char error[512] = {};
    void* handle = api().load(modelFile.c_str(), error, sizeof error);
    if (!handle)
        throw Error(modelFile + ": not a SentencePiece model: " + error);
    const std::string kind = modelFile.find("unigram-") != std::string::npos ? "unigram" : "bpe";
    return std::make_shared<SentencePieceTokenizer>(handle, kind, modelFile);
}

std::string sentencePieceModelPath(const std::vector<std::string>& texts, const SentencePieceOptions& options)
{
    // FNV-1a over the settings and every text: the same training texts find the same model.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const std::string& s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    };
    mix(options.modelType);
    mix(std::to_string(options.vocabSize));
    for (const auto& t : texts)
        mix(oneLine(t));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    const fs::path dir = options.cacheDir.empty() ? fs::temp_directory_path() / "omnilab-tokenizers" : fs::path(options.cacheDir);
    return (dir / (options.modelType + "-" + std::to_string(options.vocabSize) + "-" + hex + ".model")).string();
}

std::shared_ptr<Tokenizer> trainSentencePiece(const std::vector<std::string>& texts, const SentencePieceOptions& options)
{
    if (options.modelType != "bpe" && options.modelType != "unigram")
        throw Error("SentencePiece model type must be bpe or unigram, got \"" + clipped(options.modelType) + "\"");
    const fs::path model = sentencePieceModelPath(texts, options);
    if (fs::is_regular_file(model))
        return loadSentencePiece(model.string());
    api(); // fail before writing anything when the module is missing
    std::error_code ec;
    fs::create_directories(model.parent_path(), ec);
    if (ec)
        throw Error(model.parent_path().string() + ": cannot create the tokenizer cache folder: " + ec.message());
    const fs::path stem = model.parent_path() / (model.stem().string() + ".tmp" + std::to_string(::getpid()));
    const std::string input = stem.string() + ".txt";
    {
        std::ofstream out(input, std::ios::binary);
        for (const auto& t : texts)
            if (!t.empty())
                out << oneLine(t) << '\n';
        if (!out)
            throw Error(input + ": cannot write the tokenizer's training texts");
    }
    char error[1024] = {};
    const int rc = api().train(input.c_str(), stem.string().c_str(), options.vocabSize, options.modelType.c_str(), error, sizeof error);
    fs::remove(input, ec);
    if (rc != 0) {
        fs::remove(stem.string() + ".model", ec);
        fs::remove(stem.string() + ".vocab", ec);
        throw Error("training a " + options.modelType + " tokenizer with " + std::to_string(options.vocabSize) + " pieces failed: " + error);
    }
    // Renamed into place last, so a half-written model is never found in the cache.
    fs::rename(stem.string() + ".vocab", model.parent_path() / (model.stem().string() + ".vocab"), ec);
    fs::rename(stem.string() + ".model", model, ec);
    if (ec)
        throw Error(model.string() + ": cannot store the trained tokenizer: " + ec.message());
    return loadSentencePiece(model.string());
}

} // namespace omnilab
