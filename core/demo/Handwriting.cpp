// Handwritten-looking word images: English words in IAM's layout (words.txt + words/<a01>/
// <a01-000u>/<id>.png) and Arabic words as an image<TAB>word<TAB>split TSV. Words are drawn
// with Debian's handwriting fonts through Qt (HarfBuzz shapes Arabic right to left, with its
// joining forms), then slanted, thickened or thinned, bent along a wavy baseline, cropped,
// and put on noisy paper in a random ink grey. Each "writer" (form) keeps one font and style.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <QFont>
#include <QFontDatabase>
#include <QFontInfo>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QRawFont>

#include <opencv2/imgproc.hpp>

#include "core/demo/DemoParts.h"
#include "core/demo/DemoRandom.h"
#include "core/util/Error.h"

namespace omnilab::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FontFile {
    const char* path;
    const char* package;
};

// The faces used, by Debian package. Breip ships the same face twice; one is enough.
const std::vector<FontFile>& englishFonts()
{
    static const std::vector<FontFile> files = {
        { "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", "fonts-dkg-handwriting" },
        { "/usr/share/fonts/truetype/fifthhorseman/dkgBd.ttf", "fonts-dkg-handwriting" },
        { "/usr/share/fonts/truetype/fifthhorseman/dkgIt.ttf", "fonts-dkg-handwriting" },
        { "/usr/share/fonts/truetype/fifthhorseman/dkgBI.ttf", "fonts-dkg-handwriting" },
        { "/usr/share/fonts/truetype/breip/Breip.ttf", "fonts-breip" },
        { "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf", "fonts-rufscript" },
        { "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf", "fonts-dancingscript" },
        { "/usr/share/fonts/opentype/dancingscript/DancingScript-Bold.otf", "fonts-dancingscript" },
    };
    return files;
}

// Arabic faces that read as handwriting or book hands (KACST and Arabeyes); the display and
// decorative ones are left out, and so are Maghrebi-style ones (ae_Dimnah, ae_Kayrawan),
// whose one-dot qaf would read as fa to most readers of the labels.
const std::vector<FontFile>& arabicFonts()
{
    static const std::vector<FontFile> files = {
        { "/usr/share/fonts/truetype/kacst/KacstPen.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/kacst/KacstBook.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/kacst/KacstNaskh.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/kacst/KacstLetter.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/kacst/KacstOffice.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/kacst/KacstFarsi.ttf", "fonts-kacst" },
        { "/usr/share/fonts/truetype/fonts-arabeyes/ae_AlArabiya.ttf", "fonts-arabeyes" },
        { "/usr/share/fonts/truetype/fonts-arabeyes/ae_Furat.ttf", "fonts-arabeyes" },
        { "/usr/share/fonts/truetype/fonts-arabeyes/ae_Nagham.ttf", "fonts-arabeyes" },
        { "/usr/share/fonts/truetype/fonts-arabeyes/ae_Salem.ttf", "fonts-arabeyes" },
        { "/usr/share/fonts/truetype/fonts-arabeyes/ae_Tholoth.ttf", "fonts-arabeyes" },
    };
    return files;
}

// Common English words with their Penn tags ("word/TAG"), most frequent first; drawn with
// Zipf-like weights, so the frequent ones recur many times (word spotting needs repeats).
struct TaggedWord {
    std::string word, tag;
};
const std::vector<TaggedWord>& englishWords()
{
    static const std::vector<TaggedWord> words = [] {
        std::vector<TaggedWord> out;
        std::istringstream in("the/DT of/IN and/CC to/TO a/DT in/IN is/VBZ that/IN it/PRP was/VBD for/IN on/IN are/VBP with/IN "
                              "as/IN he/PRP they/PRP be/VB at/IN one/CD have/VBP this/DT from/IN by/IN word/NN but/CC what/WP "
                              "some/DT we/PRP can/MD out/RP other/JJ were/VBD all/DT there/EX when/WRB up/RP use/VB your/PRP$ "
                              "how/WRB said/VBD each/DT she/PRP which/WDT do/VBP their/PRP$ time/NN if/IN will/MD way/NN about/IN "
                              "many/JJ then/RB them/PRP write/VB would/MD like/IN so/RB these/DT her/PRP$ long/JJ make/VB thing/NN "
                              "see/VB him/PRP two/CD has/VBZ look/VB more/JJR day/NN could/MD go/VB come/VB did/VBD number/NN "
                              "sound/NN no/DT most/JJS people/NNS my/PRP$ over/IN know/VB water/NN than/IN call/VB first/JJ who/WP "
                              "may/MD down/RP side/NN been/VBN now/RB find/VB letter/NN house/NN morning/NN little/JJ "
                              "government/NN labour/NN minister/NN should/MD never/RB because/IN before/IN between/IN");
        for (std::string item; in >> item;)
            out.push_back({ item.substr(0, item.find('/')), item.substr(item.find('/') + 1) });
        return out;
    }();
    return words;
}

// Common Arabic words (UTF-8, no vowel marks): nouns, adjectives, colours, greetings; several
// hold the lam-alef ligature (سلام, لا) and letters in all four joining forms.
const std::vector<std::string>& arabicWords()
{
    static const std::vector<std::string> words = [] {
        std::vector<std::string> out;
        std::istringstream in("كتاب بيت ماء شمس قمر مدرسة قلم باب سيارة شجرة ولد بنت "
                              "رجل امرأة طعام خبز يوم ليل سماء بحر جبل مدينة طريق صديق "
                              "عمل وقت كبير صغير جميل جديد قديم أحمر أخضر أزرق سلام شكرا "
                              "مرحبا نعم لا علم حب قلب عين يد كلمة");
        for (std::string word; in >> word;)
            out.push_back(word);
        return out;
    }();
    return words;
}

std::vector<double> zipfWeights(size_t n, double exponent)
{
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i)
        w[i] = 1.0 / std::pow(static_cast<double>(i) + 2.0, exponent);
    return w;
}

void requireGuiApplication()
{
    if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
        throw Error(
            "make-demo-data: rendering handwriting needs a QGuiApplication (the offscreen platform is enough: QT_QPA_PLATFORM=offscreen)");
}

// A font file made usable through QFont (which shapes text; QRawFont alone does not).
struct Face {
    std::string file;
    QString family, style;
};

Face loadFace(const FontFile& f)
{
    const QString path = QString::fromUtf8(f.path);
    // Registered once per process: a second run in the same process reuses the first.
    static std::map<std::string, Face> loaded;
    if (auto it = loaded.find(f.path); it != loaded.end())
        return it->second;
    const int id = QFontDatabase::addApplicationFont(path);
    const QStringList families = id < 0 ? QStringList() : QFontDatabase::applicationFontFamilies(id);
    const QRawFont raw(path, 32);
    if (families.isEmpty() || !raw.isValid())
        throw Error(std::string(f.path) + ": cannot load this font (Debian package " + f.package + ")");
    Face face { f.path, families.front(), raw.styleName() };
    loaded[f.path] = face;
    return face;
}

QFont makeFont(const Face& face, int pixelSize)
{
    QFont font(face.family);
    font.setStyleName(face.style);
    font.setPixelSize(pixelSize);
    font.setHintingPreference(QFont::PreferNoHinting);
    // No glyphs borrowed from other fonts: a word is written in one hand or not at all.
    font.setStyleStrategy(QFont::StyleStrategy(QFont::NoFontMerging | QFont::PreferAntialias));
    return font;
}

// Whether the face has a glyph for every character of the word.
bool faceCovers(const Face& face, const QString& word)
{
    const QRawFont raw = QRawFont::fromFont(makeFont(face, 32));
    for (const QChar c : word)
        if (!raw.supportsCharacter(c))
            return false;
    return true;
}

// One writer's hand: a face and the style every word of the form shares.
struct Hand {
    Face face;
    double size = 44; // pixels
    double shear = -0.15; // negative leans right
    int stroke = 0; // < 0 thinner, > 0 thicker (pixels of erosion / dilation)
    double ink = 40, paper = 230, noise = 4;
    double wave = 1.5; // baseline wobble amplitude in pixels
};

Hand sampleHand(const Face& face, bool arabic, DemoRandom& rng)
{
    Hand h;
    h.face = face;
    h.size = rng.uniform(38, 58);
    h.shear = arabic ? rng.uniform(-0.15, 0.15) : rng.uniform(-0.35, 0.1);
    h.stroke = static_cast<int>(rng.weighted({ 0.15, 0.55, 0.2, 0.1 })) - 1;
    h.ink = rng.uniform(10, 100);
    h.paper = rng.uniform(200, 245);
    h.noise = rng.uniform(2, 7);
    h.wave = rng.uniform(0, 3);
    return h;
}

struct WordImage {
    cv::Mat grey; // CV_8U, dark ink on light paper
    int greyLevel = 0;
};

// White-on-black drawing of the word, centred on a canvas `pad` pixels larger than `box` on
// every side, slanted and turned: ink coverage in [0, 1].
cv::Mat drawCoverage(const QString& word, const QFont& font, const QRectF& box, double pad, double shear, double rotation)
{
    const int width = static_cast<int>(std::ceil(box.width() + 2 * pad)), height = static_cast<int>(std::ceil(box.height() + 2 * pad));
    QImage canvas(width, height, QImage::Format_RGB32);
    canvas.fill(Qt::black);
    {
        QPainter painter(&canvas);
        painter.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
        painter.setPen(Qt::white);
        painter.setFont(font);
        QTransform t;
        t.translate(width / 2.0, height / 2.0);
        t.rotate(rotation);
        t.shear(shear, 0);
        painter.setTransform(t);
        painter.drawText(QPointF(-box.center().x(), -box.center().y()), word);
    }
    cv::Mat coverage(height, width, CV_32F);
    for (int y = 0; y < height; ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(canvas.constScanLine(y));
        auto* out = coverage.ptr<float>(y);
        for (int x = 0; x < width; ++x)
            out[x] = static_cast<float>(qGreen(line[x])) / 255.0f;
    }
    return coverage;
}

// Whether any ink lies within 3 pixels of the canvas edge (the word may be cut off).
bool touchesEdge(const cv::Mat& coverage)
{
    const int m = 3;
    for (int y = 0; y < coverage.rows; ++y) {
        const auto* row = coverage.ptr<float>(y);
        const bool edgeRow = y < m || y >= coverage.rows - m;
        for (int x = 0; x < coverage.cols; ++x)
            if ((edgeRow || x < m || x >= coverage.cols - m) && row[x] > 0.02f)
                return true;
    }
    return false;
}

// Draws `word` in the hand with per-word jitter; `badCrop` imitates a failed segmentation.
WordImage renderWord(const QString& word, const Hand& hand, bool badCrop, DemoRandom& rng)
{
    const int pixelSize = std::max(12, static_cast<int>(std::lround(hand.size * rng.uniform(0.92, 1.08))));
    const double shear = hand.shear + rng.uniform(-0.05, 0.05);
    const double rotation = rng.uniform(-2, 2);
    const QFont font = makeFont(hand.face, pixelSize);
    // The ink's extent after shaping; some faces draw well outside their ascent and descent,
    // so the canvas is generous and grows when ink still reaches its edge.
    const QRectF box = QFontMetricsF(font).tightBoundingRect(word); // relative to the start of the baseline
    cv::Mat coverage;
    for (double pad = pixelSize; coverage.empty() || touchesEdge(coverage); pad *= 2) {
        if (pad > 16.0 * pixelSize)
            throw Error(hand.face.file + ": the word \"" + word.toStdString() + "\" does not fit any canvas (broken font metrics?)");
        coverage = drawCoverage(word, font, box, pad + std::abs(shear) * box.height(), shear, rotation);
    }
    const int width = coverage.cols, height = coverage.rows;

    // Pen width.
    if (hand.stroke != 0) {
        const int k = std::abs(hand.stroke) + 1;
        const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, { k, k });
        if (hand.stroke > 0)
            cv::dilate(coverage, coverage, kernel);
        else
            cv::erode(coverage, coverage, kernel);
    }
    // A baseline that wanders: shift each column up or down along a slow sine.
    const double wavelength = rng.uniform(1.5, 4.0) * pixelSize, phase = rng.uniform(0, 6.283185307179586);
    cv::Mat mapX(height, width, CV_32F), mapY(height, width, CV_32F);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            mapX.at<float>(y, x) = static_cast<float>(x);
            mapY.at<float>(y, x) = static_cast<float>(y + hand.wave * std::sin(6.283185307179586 * x / wavelength + phase));
        }
    cv::remap(coverage, coverage, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
    cv::GaussianBlur(coverage, coverage, { 3, 3 }, rng.uniform(0.3, 0.8));

    // Crop to the ink with a small uneven margin, as a word segmenter would.
    cv::Mat mask;
    cv::threshold(coverage, mask, 0.1, 255, cv::THRESH_BINARY);
    mask.convertTo(mask, CV_8U);
    cv::Rect ink = cv::boundingRect(mask);
    if (ink.empty())
        ink = cv::Rect(0, 0, width, height);
    int left = ink.x - rng.between(2, 8), right = ink.x + ink.width + rng.between(2, 8);
    int top = ink.y - rng.between(2, 8), bottom = ink.y + ink.height + rng.between(2, 8);
    if (badCrop) {
        // A cut through the word, or a box that is much too wide.
        const int cut = static_cast<int>(ink.width * rng.uniform(0.15, 0.3));
        switch (rng.below(3)) {
        case 0:
            left += cut;
            break;
        case 1:
            right -= cut;
            break;
        default:
            right += cut;
            break;
        }
    }
    left = std::clamp(left, 0, width - 2);
    right = std::clamp(right, left + 2, width);
    top = std::clamp(top, 0, height - 2);
    bottom = std::clamp(bottom, top + 2, height);
    const cv::Mat crop = coverage(cv::Rect(left, top, right - left, bottom - top));

    // Ink on paper, with paper noise.
    WordImage out;
    out.grey.create(crop.rows, crop.cols, CV_8U);
    for (int y = 0; y < crop.rows; ++y) {
        const auto* c = crop.ptr<float>(y);
        auto* g = out.grey.ptr<uint8_t>(y);
        for (int x = 0; x < crop.cols; ++x) {
            const double v = hand.paper - (hand.paper - hand.ink) * std::min(1.0f, c[x]) + hand.noise * rng.normal();
            g[x] = cv::saturate_cast<uint8_t>(std::lround(v));
        }
    }
    out.greyLevel = static_cast<int>(std::lround((hand.paper + hand.ink) / 2));
    return out;
}

std::vector<Face> loadFaces(const std::vector<FontFile>& files)
{
    std::vector<Face> faces;
    for (const auto& f : files)
        faces.push_back(loadFace(f));
    return faces;
}

// IAM's header comment, in its style: what each field of a line means.
const char* kWordsHeader = "#--- words.txt ---------------------------------------------------------------#\n"
                           "#\n"
                           "# Omnilab demo data: synthetic handwritten words (rendered with handwriting fonts)\n"
                           "# in the layout of the IAM Handwriting Database's words.txt.\n"
                           "#\n"
                           "# format: a01-000u-00-00 ok 154 408 768 27 51 AT A\n"
                           "#\n"
                           "#     a01-000u-00-00  -> word id: form a01-000u, line 00, word 00; the image is\n"
                           "#                        words/a01/a01-000u/a01-000u-00-00.png\n"
                           "#     ok              -> result of the word segmentation\n"
                           "#                            ok: the word was cropped correctly\n"
                           "#                            err: the crop may cut the word or hold too much\n"
                           "#     154             -> grey level that separates ink from paper in this word\n"
                           "#     408 768 27 51   -> bounding box of the word on its form page: x, y, w, h\n"
                           "#     AT              -> grammatical tag of the word (a Penn Treebank tag here)\n"
                           "#     A               -> transcription of the word\n"
                           "#\n";

// Form ids in IAM's pattern (a01-000u, a01-007, ...), distinct for every index below 1300.
std::string formId(int f)
{
    const char letter = static_cast<char>('a' + (f / 50) % 26);
    static const char* suffixes[] = { "u", "", "x" };
    return std::string(1, letter) + zeroPadded(static_cast<uint64_t>(1 + (f % 50) / 5), 2) + "-"
        + zeroPadded(static_cast<uint64_t>((f % 5) * 7), 3) + suffixes[f % 3];
}

} // namespace

void checkHandwritingFonts()
{
    std::vector<std::string> missingPackages, missingFiles;
    for (const auto* list : { &englishFonts(), &arabicFonts() })
        for (const auto& f : *list)
            if (!fs::is_regular_file(f.path)) {
                missingFiles.push_back(f.path);
                if (std::find(missingPackages.begin(), missingPackages.end(), f.package) == missingPackages.end())
                    missingPackages.push_back(f.package);
            }
    if (missingFiles.empty()) {
        requireGuiApplication();
        return;
    }
    std::string packages, files;
    for (const auto& p : missingPackages)
        packages += (packages.empty() ? "" : " ") + p;
    for (const auto& f : missingFiles)
        files += (files.empty() ? "" : ", ") + f;
    throw Error("make-demo-data: handwriting fonts are missing (" + files + "); install the Debian package(s): " + packages
        + " (sudo apt-get install " + packages + ")");
}

GeneratedParts makeHandwriting(const PartContext& context)
{
    checkHandwritingFonts();
    DemoRandom rng = DemoRandom::forPart(context.seed, "handwriting");
    GeneratedParts out;

    // English, IAM layout. Forms of about 40 words, at least one per face.
    {
        const auto faces = loadFaces(englishFonts());
        const auto& vocabulary = englishWords();
        const auto weights = zipfWeights(vocabulary.size(), 0.9);
        const int total = context.sizes.englishWords;
        const int forms = std::max(static_cast<int>(faces.size()), total / 40);
        const fs::path root = context.root / "iam";
        std::string lines = kWordsHeader;
        int written = 0, errCount = 0;
        std::map<std::string, int> distinct;
        for (int f = 0; f < forms; ++f) {
            const Hand hand = sampleHand(faces[static_cast<size_t>(f) % faces.size()], false, rng);
            const std::string form = formId(f);
            const int words = total / forms + (f < total % forms ? 1 : 0);
            int line = 0, inLine = 0, lineLength = rng.between(4, 9);
            double x = rng.uniform(300, 450);
            for (int w = 0; w < words; ++w) {
                if (inLine == lineLength) {
                    ++line;
                    inLine = 0;
                    lineLength = rng.between(4, 9);
                    x = rng.uniform(300, 450);
                }
                // A word the face can write (some faces lack a letter or two).
                const TaggedWord* entry = nullptr;
                std::string text;
                for (int attempt = 0; attempt < 50 && !entry; ++attempt) {
                    const TaggedWord& candidate = vocabulary[rng.weighted(weights)];
                    text = candidate.word;
                    if (rng.chance(0.08))
                        text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
                    if (faceCovers(hand.face, QString::fromStdString(text)))
                        entry = &candidate;
                }
                if (!entry)
                    throw Error(hand.face.file + ": this font cannot write any of the demo words");
                const bool err = rng.chance(0.04);
                const WordImage image = renderWord(QString::fromStdString(text), hand, err, rng);
                const std::string id
                    = form + "-" + zeroPadded(static_cast<uint64_t>(line), 2) + "-" + zeroPadded(static_cast<uint64_t>(inLine), 2);
                const std::string writer = form.substr(0, form.find('-'));
                writeImage(root / "words" / writer / form / (id + ".png"), image.grey);
                const int y = 700 + 150 * line + rng.between(-10, 10);
                lines += id + (err ? " err " : " ok ") + std::to_string(image.greyLevel) + " " + std::to_string(static_cast<int>(x)) + " "
                    + std::to_string(y) + " " + std::to_string(image.grey.cols) + " " + std::to_string(image.grey.rows) + " " + entry->tag
                    + " " + text + "\n";
                x += image.grey.cols + rng.uniform(20, 60);
                ++inLine;
                ++written;
                errCount += err ? 1 : 0;
                ++distinct[text];
            }
        }
        writeFile(root / "words.txt", lines);
        out.parts.push_back({ "iam", "word-images", "iam/words.txt",
            { { "words", written }, { "err", errCount }, { "forms", forms }, { "distinct_words", distinct.size() },
                { "fonts", faces.size() } } });
        out.summary = std::to_string(written) + " English word images (" + std::to_string(forms) + " forms, "
            + std::to_string(distinct.size()) + " distinct words, " + std::to_string(errCount) + " marked err)";
    }

    // Arabic, image<TAB>word<TAB>split.
    {
        const auto faces = loadFaces(arabicFonts());
        const auto& vocabulary = arabicWords();
        const auto weights = zipfWeights(vocabulary.size(), 0.6);
        const int total = context.sizes.arabicWords;
        const int writers = std::max(static_cast<int>(faces.size()), total / 40);
        const fs::path root = context.root / "arabic";
        std::string tsv;
        std::map<std::string, int> splits, distinct;
        int written = 0;
        for (int wr = 0; wr < writers; ++wr) {
            const Hand hand = sampleHand(faces[static_cast<size_t>(wr) % faces.size()], true, rng);
            const std::string writer = "w" + zeroPadded(static_cast<uint64_t>(wr + 1), 2);
            const int words = total / writers + (wr < total % writers ? 1 : 0);
            for (int w = 0; w < words; ++w) {
                std::string text;
                for (int attempt = 0; attempt < 50; ++attempt) {
                    text = vocabulary[rng.weighted(weights)];
                    if (faceCovers(hand.face, QString::fromStdString(text)))
                        break;
                    text.clear();
                }
                if (text.empty())
                    throw Error(hand.face.file + ": this font cannot write any of the demo words");
                const WordImage image = renderWord(QString::fromStdString(text), hand, false, rng);
                const std::string name = "words/" + writer + "/" + writer + "-" + zeroPadded(static_cast<uint64_t>(w + 1), 4) + ".png";
                writeImage(root / name, image.grey);
                const double r = rng.uniform();
                const std::string split = r < 0.7 ? "train" : r < 0.8 ? "val" : "test";
                tsv += name + "\t" + text + "\t" + split + "\n";
                ++splits[split];
                ++distinct[text];
                ++written;
            }
        }
        writeFile(root / "words.tsv", tsv);
        out.parts.push_back({ "arabic", "word-images", "arabic/words.tsv",
            { { "words", written }, { "splits", { { "train", splits["train"] }, { "val", splits["val"] }, { "test", splits["test"] } } },
                { "writers", writers }, { "distinct_words", distinct.size() }, { "fonts", faces.size() } } });
        out.summary += "; " + std::to_string(written) + " Arabic word images (" + std::to_string(writers) + " writers, "
            + std::to_string(distinct.size()) + " distinct words)";
    }
    return out;
}

} // namespace omnilab::demo
