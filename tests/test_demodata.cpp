// make-demo-data: the tiny set in the exact layouts the loaders expect (COCO captions, VQA v2,
// HMDB51, Speech Commands, CoNLL-U, aclImdb, IAM words.txt, Arabic TSV), every file readable,
// byte-identical for a seed, reused when complete, and the CLI's errors and exit codes.
#include <QCryptographicHash>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "core/demo/DemoData.h"
#include "core/util/Error.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace omnilab;

namespace {

// Font rendering needs a QGuiApplication; offscreen when run outside ctest too.
const bool offscreen = [] {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    return true;
}();

json readJson(const fs::path& file)
{
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error(file.string() + ": missing");
    return json::parse(in);
}

std::vector<std::string> readLines(const fs::path& file)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::vector<std::string> splitOn(const std::string& line, char sep)
{
    std::vector<std::string> out;
    std::stringstream ss(line);
    for (std::string col; std::getline(ss, col, sep);)
        out.push_back(col);
    if (!line.empty() && line.back() == sep)
        out.push_back("");
    return out;
}

// Relative path -> SHA-1 of every file under `dir`.
std::map<std::string, QByteArray> hashes(const QString& dir)
{
    std::map<std::string, QByteArray> out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        out[QDir(dir).relativeFilePath(file).toStdString()] = QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha1);
    }
    return out;
}

struct ClipProbe {
    int width = 0, height = 0;
    int64_t containerFrames = 0; // nb_frames, 0 when the container does not say
    int decodedFrames = 0;
    double fps = 0;
    std::string codec;
};

// Opens a clip with libavformat and decodes every frame.
ClipProbe probeClip(const std::string& file)
{
    ClipProbe p;
    AVFormatContext* format = nullptr;
    if (avformat_open_input(&format, file.c_str(), nullptr, nullptr) < 0)
        throw std::runtime_error(file + ": cannot open");
    std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> closeFormat(format, [](AVFormatContext* f) { avformat_close_input(&f); });
    if (avformat_find_stream_info(format, nullptr) < 0)
        throw std::runtime_error(file + ": no stream info");
    const AVCodec* decoder = nullptr;
    const int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (index < 0 || !decoder)
        throw std::runtime_error(file + ": no video stream");
    AVStream* stream = format->streams[index];
    AVCodecContext* codec = avcodec_alloc_context3(decoder);
    std::unique_ptr<AVCodecContext, void (*)(AVCodecContext*)> closeCodec(codec, [](AVCodecContext* c) { avcodec_free_context(&c); });
    avcodec_parameters_to_context(codec, stream->codecpar);
    if (avcodec_open2(codec, decoder, nullptr) < 0)
        throw std::runtime_error(file + ": cannot open decoder");
    p.width = codec->width;
    p.height = codec->height;
    p.containerFrames = stream->nb_frames;
    p.fps = av_q2d(stream->r_frame_rate);
    p.codec = decoder->name;
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    auto receive = [&] {
        while (avcodec_receive_frame(codec, frame) >= 0)
            ++p.decodedFrames;
    };
    while (av_read_frame(format, packet) >= 0) {
        if (packet->stream_index == index && avcodec_send_packet(codec, packet) >= 0)
            receive();
        av_packet_unref(packet);
    }
    avcodec_send_packet(codec, nullptr);
    receive();
    av_frame_free(&frame);
    av_packet_free(&packet);
    return p;
}

struct Wav {
    int rate = 0, channels = 0, bits = 0;
    size_t samples = 0;
};

Wav readWavHeader(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto u32 = [&](size_t at) {
        return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8
            | static_cast<uint8_t>(bytes[at + 2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3])) << 24);
    };
    auto u16 = [&](size_t at) { return static_cast<int>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8); };
    Wav w;
    if (bytes.size() < 44 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 8, "WAVEfmt ") != 0 || bytes.compare(36, 4, "data") != 0)
        return w;
    if (u16(20) != 1 || u32(4) != bytes.size() - 8 || u32(40) != bytes.size() - 44)
        return w;
    w.channels = u16(22);
    w.rate = static_cast<int>(u32(24));
    w.bits = u16(34);
    w.samples = (bytes.size() - 44) / 2;
    return w;
}

} // namespace

class TestDemoData : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString set_; // the tiny set, seed 1
    double seconds_ = 0;

    static demo::DemoSummary make(const QString& out, uint64_t seed, bool force = false)
    {
        demo::DemoOptions o;
        o.out = out.toStdString();
        o.scale = demo::DemoScale::Tiny;
        o.seed = seed;
        o.force = force;
        return demo::makeDemoData(o);
    }

    struct Result {
        int code;
        QString out, err;
    };
    static Result cli(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment())
    {
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(OMNILAB_CLI), args);
        if (!p.waitForFinished(120000))
            return { -1, {}, QStringLiteral("timeout") };
        return { p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError()) };
    }

    fs::path root() const { return fs::path(set_.toStdString()); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(offscreen);
        QVERIFY(dir_.isValid());
        set_ = dir_.filePath(QStringLiteral("seed1"));
        QElapsedTimer timer;
        timer.start();
        std::vector<std::string> progress;
        demo::DemoOptions o;
        o.out = set_.toStdString();
        o.scale = demo::DemoScale::Tiny;
        const auto summary = demo::makeDemoData(o, [&](const std::string& line) { progress.push_back(line); });
        seconds_ = static_cast<double>(timer.elapsed()) / 1000.0;
        qInfo("tiny set generated in %.1f s", seconds_);
        QVERIFY(!summary.reused);
        QCOMPARE(progress.size(), size_t(9)); // a start line and one per part
    }

    void manifestAndReadme()
    {
        const json m = readJson(root() / "manifest.json");
        QCOMPARE(m["seed"].get<uint64_t>(), uint64_t(1));
        QCOMPARE(m["scale"].get<std::string>(), std::string("tiny"));
        const std::map<std::string, std::string> formats = { { "coco", "coco-captions" }, { "vqa", "vqa-v2" }, { "hmdb", "video-folder" },
            { "speech_commands", "speech-commands" }, { "conll", "conll" }, { "aclImdb", "text-folder" }, { "iam", "word-images" },
            { "arabic", "word-images" }, { "shapes", "image-folder" }, { "fashion_mnist", "mnist-idx" } };
        for (const auto& [name, format] : formats) {
            QVERIFY2(m["parts"].contains(name), name.c_str());
            QCOMPARE(m["parts"][name]["format"].get<std::string>(), format);
            QVERIFY(m["parts"][name].contains("counts"));
            if (name != "fashion_mnist")
                QVERIFY2(fs::exists(root() / m["parts"][name]["path"].get<std::string>()), name.c_str());
        }
        const bool fashion = fs::is_directory("/usr/share/datasets/fashion-mnist");
        QCOMPARE(m["parts"]["fashion_mnist"]["path"].is_string(), fashion);
        std::ifstream in(root() / "README.txt");
        const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const char* folder :
            { "coco/", "vqa/", "hmdb/", "speech_commands/", "conll/", "aclImdb/", "iam/", "arabic/", "Fashion-MNIST" })
            QVERIFY2(readme.find(folder) != std::string::npos, folder);
        QVERIFY(!fs::exists(root() / ".partial"));
    }

    void cocoCaptions()
    {
        std::set<int64_t> imageIds, captionIds;
        int images = 0;
        for (const std::string split : { "train", "val", "test" }) {
            const json doc = readJson(root() / "coco" / "annotations" / ("captions_" + split + "2014.json"));
            QVERIFY(doc["info"].is_object());
            QVERIFY(doc["licenses"].is_array());
            std::map<int64_t, int> perImage;
            for (const auto& image : doc["images"]) {
                const int64_t id = image["id"];
                QVERIFY2(imageIds.insert(id).second, "image ids must be unique across the splits");
                const std::string name = image["file_name"];
                char expected[64];
                std::snprintf(expected, sizeof expected, "COCO_%s2014_%012lld.jpg", split.c_str(), static_cast<long long>(id));
                QCOMPARE(name, std::string(expected));
                QCOMPARE(image["width"].get<int>(), 128);
                QCOMPARE(image["height"].get<int>(), 128);
                const fs::path file = root() / "coco" / (split + "2014") / name;
                const cv::Mat decoded = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
                QVERIFY2(!decoded.empty() && decoded.cols == 128 && decoded.rows == 128 && decoded.channels() == 3, file.c_str());
                perImage[id] = 0;
                ++images;
            }
            for (const auto& a : doc["annotations"]) {
                QVERIFY(captionIds.insert(a["id"].get<int64_t>()).second);
                QVERIFY(perImage.count(a["image_id"].get<int64_t>()));
                ++perImage[a["image_id"].get<int64_t>()];
                const std::string caption = a["caption"];
                QVERIFY(caption.size() > 10 && caption.back() == '.');
            }
            for (const auto& [id, count] : perImage)
                QCOMPARE(count, 5);
            QVERIFY(!doc["images"].empty());
        }
        QCOMPARE(images, 60);
        // Only the listed images are there.
        int files = 0;
        for (const std::string split : { "train", "val", "test" })
            for (const auto& e : fs::directory_iterator(root() / "coco" / (split + "2014"))) {
                QVERIFY(e.path().extension() == ".jpg");
                ++files;
            }
        QCOMPARE(files, images);
    }

    void vqaQuestionsAndAnswers()
    {
        std::set<int64_t> questionIds;
        std::map<std::string, int> answerTypes;
        int disagreements = 0;
        for (const std::string split : { "train", "val", "test" }) {
            const json q = readJson(root() / "vqa" / ("v2_OpenEnded_mscoco_" + split + "2014_questions.json"));
            const json a = readJson(root() / "vqa" / ("v2_mscoco_" + split + "2014_annotations.json"));
            QCOMPARE(q["task_type"].get<std::string>(), std::string("Open-Ended"));
            QCOMPARE(q["data_type"].get<std::string>(), std::string("mscoco"));
            QCOMPARE(q["data_subtype"].get<std::string>(), split + "2014");
            QCOMPARE(a["data_subtype"].get<std::string>(), split + "2014");
            QVERIFY(q["info"].is_object() && a["info"].is_object());
            std::map<int64_t, std::pair<int64_t, std::string>> questions; // id -> image, text
            std::map<int64_t, int> perImage;
            for (const auto& item : q["questions"]) {
                const int64_t id = item["question_id"], image = item["image_id"];
                QVERIFY2(questionIds.insert(id).second, "question ids must be unique");
                questions[id] = { image, item["question"] };
                ++perImage[image];
                char name[64];
                std::snprintf(name, sizeof name, "COCO_%s2014_%012lld.jpg", split.c_str(), static_cast<long long>(image));
                QVERIFY2(fs::exists(root() / "coco" / (split + "2014") / name), name);
            }
            for (const auto& [image, count] : perImage)
                QVERIFY2(count >= 3 && count <= 5, "3-5 questions per image");
            QCOMPARE(a["annotations"].size(), q["questions"].size());
            for (const auto& ann : a["annotations"]) {
                const int64_t id = ann["question_id"];
                QVERIFY(questions.count(id));
                QCOMPARE(ann["image_id"].get<int64_t>(), questions[id].first);
                const std::string type = ann["answer_type"];
                QVERIFY(type == "other" || type == "yes/no" || type == "number");
                ++answerTypes[type];
                QVERIFY(!ann["question_type"].get<std::string>().empty());
                QCOMPARE(ann["answers"].size(), size_t(10));
                const std::string best = ann["multiple_choice_answer"];
                int matches = 0;
                std::set<int> answerIds;
                for (const auto& ans : ann["answers"]) {
                    QVERIFY(answerIds.insert(ans["answer_id"].get<int>()).second);
                    const std::string confidence = ans["answer_confidence"];
                    QVERIFY(confidence == "yes" || confidence == "maybe" || confidence == "no");
                    matches += ans["answer"] == best ? 1 : 0;
                }
                QVERIFY2(matches >= 6, "the true answer is the clear majority");
                disagreements += matches < 10 ? 1 : 0;
            }
        }
        for (const char* type : { "other", "yes/no", "number" })
            QVERIFY2(answerTypes[type] > 0, type);
        QVERIFY2(disagreements > 0, "some questions have human disagreement");
    }

    void hmdbClips()
    {
        const fs::path hmdb = root() / "hmdb";
        const std::vector<std::string> actions
            = { "move_left", "move_right", "move_up", "move_down", "grow", "shrink", "rotate", "bounce" };
        std::map<std::string, std::vector<std::string>> truth; // clip -> columns
        for (const auto& line : readLines(hmdb / "ground_truth.tsv")) {
            const auto cols = splitOn(line, '\t');
            QCOMPARE(cols.size(), size_t(5));
            QVERIFY2(
                cols[4].find(cols[2]) != std::string::npos && cols[4].find(cols[3]) != std::string::npos, "caption names colour and shape");
            truth[cols[0]] = cols;
        }
        int clips = 0, avi = 0, mp4 = 0;
        for (const auto& action : actions) {
            std::map<std::string, int> codes;
            for (const auto& line : readLines(hmdb / "splits" / (action + "_test_split1.txt"))) {
                std::istringstream words(line);
                std::string name;
                int code = -1;
                QVERIFY(words >> name >> code);
                QVERIFY(code == 1 || code == 2);
                codes[name] = code;
            }
            for (const auto& e : fs::directory_iterator(hmdb / action)) {
                const std::string name = e.path().filename().string(), ext = e.path().extension().string();
                QVERIFY2(ext == ".avi" || ext == ".mp4", name.c_str());
                (ext == ".avi" ? avi : mp4) += 1;
                QVERIFY2(codes.count(name), name.c_str());
                QVERIFY2(truth.count(action + "/" + name), name.c_str());
                QCOMPARE(truth[action + "/" + name][1], action);
                const ClipProbe p = probeClip(e.path().string());
                QCOMPARE(p.codec, std::string("mpeg4"));
                QVERIFY2(p.width == p.height && (p.width == 64 || p.width == 96), name.c_str());
                QVERIFY2(p.decodedFrames >= 24 && p.decodedFrames <= 40, name.c_str());
                QVERIFY2(p.containerFrames == 0 || p.containerFrames == p.decodedFrames, name.c_str());
                QVERIFY2(std::abs(p.fps - 12) < 1e-6, name.c_str());
                ++clips;
            }
            QCOMPARE(codes.size(), size_t(2));
        }
        QCOMPARE(clips, 16);
        QCOMPARE(truth.size(), size_t(16));
        QVERIFY2(avi > 0 && mp4 > 0, "both containers");
    }

    void speechCommands()
    {
        const fs::path sc = root() / "speech_commands";
        const std::regex name("[0-9a-f]{8}_nohash_[0-9]+\\.wav");
        std::map<std::string, std::string> speakerSplit; // speaker hash -> list
        std::set<std::string> listed;
        for (const std::string list : { "validation_list.txt", "testing_list.txt" })
            for (const auto& line : readLines(sc / list)) {
                QVERIFY2(fs::is_regular_file(sc / line), line.c_str());
                listed.insert(line);
                const std::string speaker = fs::path(line).filename().string().substr(0, 8);
                QVERIFY2(!speakerSplit.count(speaker) || speakerSplit[speaker] == list, "a speaker belongs to one split");
                speakerSplit[speaker] = list;
            }
        QVERIFY(!listed.empty());
        int clips = 0, words = 0;
        for (const auto& e : fs::directory_iterator(sc)) {
            if (!e.is_directory() || e.path().filename() == "_background_noise_")
                continue;
            ++words;
            for (const auto& f : fs::directory_iterator(e.path())) {
                const std::string file = f.path().filename().string();
                QVERIFY2(std::regex_match(file, name), file.c_str());
                const Wav w = readWavHeader(f.path());
                QVERIFY2(w.rate == 16000 && w.channels == 1 && w.bits == 16 && w.samples == 16000, file.c_str());
                const std::string speaker = file.substr(0, 8);
                const std::string rel = e.path().filename().string() + "/" + file;
                if (speakerSplit.count(speaker))
                    QVERIFY2(listed.count(rel), "every clip of a held-out speaker is listed");
                ++clips;
            }
        }
        QCOMPARE(words, 5);
        QCOMPARE(clips, 40);
        const Wav noise = readWavHeader(sc / "_background_noise_" / "noise.wav");
        QVERIFY(noise.rate == 16000 && noise.channels == 1 && noise.samples >= 16000);
    }

    void conllu()
    {
        int sentences = 0;
        for (const std::string name : { "train", "dev", "test" }) {
            const auto lines = readLines(root() / "conll" / (name + ".conllu"));
            QVERIFY(!lines.empty());
            int expectedId = 1, tokens = 0;
            bool sawId = false, sawText = false;
            for (const auto& line : lines) {
                if (line.empty()) {
                    QVERIFY2(sawId && sawText && tokens > 0, "each sentence has # sent_id, # text and tokens");
                    ++sentences;
                    expectedId = 1;
                    tokens = 0;
                    sawId = sawText = false;
                    continue;
                }
                if (line[0] == '#') {
                    sawId = sawId || line.rfind("# sent_id = ", 0) == 0;
                    sawText = sawText || line.rfind("# text = ", 0) == 0;
                    continue;
                }
                const auto cols = splitOn(line, '\t');
                QVERIFY2(cols.size() == 10, line.c_str());
                QCOMPARE(cols[0], std::to_string(expectedId++));
                for (const auto& c : cols)
                    QVERIFY2(!c.empty(), line.c_str());
                QVERIFY(!cols[3].empty() && !cols[4].empty());
                ++tokens;
            }
            QVERIFY2(lines.back().empty(), "a blank line ends the last sentence");
        }
        QCOMPARE(sentences, 150);
    }

    void aclImdb()
    {
        const std::regex name("([0-9]+)_([0-9]+)\\.txt");
        int reviews = 0;
        bool breaks = false;
        for (const std::string split : { "train", "test" })
            for (const std::string label : { "pos", "neg" })
                for (const auto& e : fs::directory_iterator(root() / "aclImdb" / split / label)) {
                    std::smatch m;
                    const std::string file = e.path().filename().string();
                    QVERIFY2(std::regex_match(file, m, name), file.c_str());
                    const int rating = std::stoi(m[2]);
                    QVERIFY2(label == "pos" ? rating >= 7 && rating <= 10 : rating >= 1 && rating <= 4, file.c_str());
                    std::ifstream in(e.path());
                    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                    QVERIFY(text.size() > 40);
                    breaks = breaks || text.find("<br /><br />") != std::string::npos;
                    ++reviews;
                }
        QCOMPARE(reviews, 80);
        QVERIFY(breaks);
        const auto vocab = readLines(root() / "aclImdb" / "imdb.vocab");
        QVERIFY(vocab.size() > 50);
        // GloVe text format: a line per vocabulary word, the word and 50 numbers.
        const auto vectors = readLines(root() / "aclImdb" / "vectors-50d.txt");
        QCOMPARE(vectors.size(), vocab.size());
        for (size_t i = 0; i < vectors.size(); ++i) {
            std::istringstream line(vectors[i]);
            std::string word;
            line >> word;
            QCOMPARE(word, vocab[i]);
            int n = 0;
            for (std::string v; line >> v; ++n) {
                size_t used = 0;
                std::stod(v, &used);
                QCOMPARE(used, v.size());
            }
            QCOMPARE(n, 50);
        }
    }

    void iamWords()
    {
        const auto lines = readLines(root() / "iam" / "words.txt");
        QVERIFY(lines.size() > 80 && lines[0].rfind("#--- words.txt", 0) == 0);
        std::map<std::string, int> counts;
        int words = 0, err = 0;
        std::set<std::string> ids;
        for (const auto& line : lines) {
            if (line.empty() || line[0] == '#')
                continue;
            std::istringstream in(line);
            std::string id, status, text;
            int grey, x, y, w, h;
            std::string tag;
            QVERIFY2(in >> id >> status >> grey >> x >> y >> w >> h >> tag >> text, line.c_str());
            QVERIFY2(std::regex_match(id, std::regex("[a-z][0-9]{2}-[0-9]{3}[a-z]?-[0-9]{2}-[0-9]{2}")), id.c_str());
            QVERIFY(ids.insert(id).second);
            QVERIFY(status == "ok" || status == "err");
            err += status == "err" ? 1 : 0;
            const auto first = id.find('-'), second = id.find('-', first + 1);
            const fs::path image = root() / "iam" / "words" / id.substr(0, first) / id.substr(0, second) / (id + ".png");
            const cv::Mat decoded = cv::imread(image.string(), cv::IMREAD_UNCHANGED);
            QVERIFY2(!decoded.empty() && decoded.channels() == 1, image.c_str());
            QCOMPARE(decoded.cols, w);
            QCOMPARE(decoded.rows, h);
            ++counts[text];
            ++words;
        }
        QCOMPARE(words, 80);
        int repeated = 0;
        for (const auto& [word, n] : counts)
            repeated += n > 1 ? 1 : 0;
        QVERIFY2(repeated >= 5, "word spotting needs words that occur several times");
        Q_UNUSED(err); // about 4 % of the words: may be 0 in a tiny set
    }

    void arabicWords()
    {
        const auto lines = readLines(root() / "arabic" / "words.tsv");
        QCOMPARE(lines.size(), size_t(40));
        for (const auto& line : lines) {
            const auto cols = splitOn(line, '\t');
            QCOMPARE(cols.size(), size_t(3));
            QVERIFY(cols[2] == "train" || cols[2] == "val" || cols[2] == "test");
            // Arabic letters are two-byte UTF-8 sequences starting 0xD8..0xDB.
            const auto lead = static_cast<unsigned char>(cols[1][0]);
            QVERIFY2(lead >= 0xD8 && lead <= 0xDB, cols[1].c_str());
            const cv::Mat decoded = cv::imread((root() / "arabic" / cols[0]).string(), cv::IMREAD_UNCHANGED);
            QVERIFY2(!decoded.empty() && decoded.channels() == 1 && decoded.cols > 8 && decoded.rows > 8, cols[0].c_str());
        }
    }

    void sameSeedSameBytesOtherSeedDiffers()
    {
        const QString again = dir_.filePath(QStringLiteral("seed1-again")), other = dir_.filePath(QStringLiteral("seed2"));
        make(again, 1);
        make(other, 2);
        const auto a = hashes(set_), b = hashes(again), c = hashes(other);
        QVERIFY(a.size() > 300);
        QCOMPARE(a.size(), b.size());
        for (const auto& [file, hash] : a) {
            QVERIFY2(b.count(file), file.c_str());
            QVERIFY2(b.at(file) == hash, ("differs between two runs with one seed: " + file).c_str());
        }
        // Every part changes with the seed.
        for (const char* part : { "coco/", "vqa/", "hmdb/", "speech_commands/", "conll/", "aclImdb/", "iam/", "arabic/" }) {
            bool differs = false;
            for (const auto& [file, hash] : a)
                if (file.rfind(part, 0) == 0 && (!c.count(file) || c.at(file) != hash))
                    differs = true;
            QVERIFY2(differs, part);
        }
    }

    void completeSetIsReusedForceRegenerates()
    {
        const auto before = fs::last_write_time(root() / "manifest.json");
        const auto reused = make(set_, 1);
        QVERIFY(reused.reused);
        QCOMPARE(fs::last_write_time(root() / "manifest.json"), before);
        QVERIFY(reused.parts.size() >= 8);

        // Another seed into the same folder replaces the set.
        const QString other = dir_.filePath(QStringLiteral("replace"));
        make(other, 1);
        const auto replaced = make(other, 5);
        QVERIFY(!replaced.reused);
        QCOMPARE(readJson(fs::path(other.toStdString()) / "manifest.json")["seed"].get<uint64_t>(), uint64_t(5));

        // --force regenerates the same bytes; a stale .partial from an interrupted run is cleared.
        fs::create_directories(fs::path(other.toStdString()) / ".partial" / "coco");
        const auto forced = make(other, 5, true);
        QVERIFY(!forced.reused);
        QVERIFY(!fs::exists(fs::path(other.toStdString()) / ".partial"));

        // Without a manifest (an interrupted replacement) the set is not complete.
        fs::remove(fs::path(other.toStdString()) / "manifest.json");
        QVERIFY(!make(other, 5).reused);
    }

    void badOptionsAreClearErrors()
    {
        QVERIFY_THROWS_EXCEPTION(Error, demo::demoScaleFromName("huge"));
        const QString file = dir_.filePath(QStringLiteral("a-file"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        try {
            make(file + QStringLiteral("/inside"), 1);
            QFAIL("writing below a regular file must fail");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(file + QStringLiteral("/inside")), e.what());
        }
    }

    void commandLine()
    {
        const QString out = dir_.filePath(QStringLiteral("cli"));
        auto r = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), out, QStringLiteral("--scale"), QStringLiteral("tiny"),
            QStringLiteral("--seed"), QStringLiteral("1") });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        for (const char* s : { "[1/8] coco + vqa:", "[8/8] fashion_mnist:", "demo data (tiny, seed 1) written to", "speech_commands" })
            QVERIFY2(r.out.contains(QLatin1String(s)), qPrintable(r.out));
        // The CLI writes the same bytes as the library.
        QVERIFY(hashes(out) == hashes(set_));

        auto again = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), out, QStringLiteral("--scale=tiny") });
        QCOMPARE(again.code, 0);
        QVERIFY2(again.out.contains(QStringLiteral("already holds")), qPrintable(again.out));
        auto forced = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), out, QStringLiteral("--scale"),
            QStringLiteral("tiny"), QStringLiteral("--force") });
        QCOMPARE(forced.code, 0);
        QVERIFY2(forced.out.contains(QStringLiteral("written to")), qPrintable(forced.out));

        auto badScale
            = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), out, QStringLiteral("--scale"), QStringLiteral("huge") });
        QCOMPARE(badScale.code, 2);
        QVERIFY2(badScale.err.contains(QStringLiteral("option --scale: scale must be tiny, small or full, got \"huge\"")),
            qPrintable(badScale.err));
        auto badSeed
            = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), out, QStringLiteral("--seed"), QStringLiteral("-3") });
        QCOMPARE(badSeed.code, 2);
        auto noOut = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--scale"), QStringLiteral("tiny") });
        QCOMPARE(noOut.code, 2);
        QVERIFY2(noOut.err.contains(QStringLiteral("needs --out DIR")), qPrintable(noOut.err));

        const QString file = dir_.filePath(QStringLiteral("cli-file"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        auto unwritable = cli({ QStringLiteral("make-demo-data"), QStringLiteral("--out"), file + QStringLiteral("/x"),
            QStringLiteral("--scale"), QStringLiteral("tiny") });
        QCOMPARE(unwritable.code, 1);
        QVERIFY2(unwritable.err.contains(file + QStringLiteral("/x: cannot create the output folder")), qPrintable(unwritable.err));

        // Without espeak-ng on PATH: a message naming the Debian package, before any work.
        QProcessEnvironment noTools = QProcessEnvironment::systemEnvironment();
        noTools.insert(QStringLiteral("PATH"), dir_.filePath(QStringLiteral("no-such-bin")));
        const QString noSpeech = dir_.filePath(QStringLiteral("no-speech"));
        auto missing = cli(
            { QStringLiteral("make-demo-data"), QStringLiteral("--out"), noSpeech, QStringLiteral("--scale"), QStringLiteral("tiny") },
            noTools);
        QCOMPARE(missing.code, 1);
        QVERIFY2(missing.err.contains(QStringLiteral("the Debian package espeak-ng")), qPrintable(missing.err));
        QVERIFY(!QFileInfo::exists(noSpeech));

        auto help = cli({ QStringLiteral("--help") });
        QVERIFY(help.out.contains(QStringLiteral("make-demo-data --out DIR [--scale tiny|small|full] [--seed N] [--force]")));
    }
};

QTEST_MAIN(TestDemoData)
#include "test_demodata.moc"
