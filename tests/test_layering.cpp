// The layering of the source tree, enforced: each folder of core/ (and each model family under
// core/models/) may include only the folders its rule names, so a lower layer never reaches up
// (util below config below engine; the engine never into a model family; the UI and the CLI
// never into core/models/ or torch). A new folder of core/ fails until it is given a rule here.
// The build already keeps torch out of omnilab_base, ui/ and app/ (docs/ARCHITECTURE.md); this
// suite covers what the build cannot see: includes between core's own folders, and ATen/c10
// headers, which Debian installs where any target finds them.
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

const char* const kTorch = "torch";

// The layer a file belongs to: "core/<folder>", "core/models/<family>", "ui", "app" or
// "plugins"; empty for files outside them.
std::string unitOf(const QString& relative)
{
    const QStringList parts = relative.split(QLatin1Char('/'));
    if (parts.size() < 2)
        return {};
    if (parts[0] == QLatin1String("core")) {
        if (parts.size() < 3)
            return {};
        if (parts[1] == QLatin1String("models") && parts.size() >= 4)
            return ("core/models/" + parts[2]).toStdString();
        return ("core/" + parts[1]).toStdString();
    }
    if (parts[0] == QLatin1String("ui") || parts[0] == QLatin1String("app") || parts[0] == QLatin1String("plugins"))
        return parts[0].toStdString();
    return {};
}

// What an include names: a unit as above, "torch" for torch/ATen/c10 headers, empty otherwise.
std::string includedUnit(const QString& header)
{
    if (header.startsWith(QLatin1String("torch/")) || header.startsWith(QLatin1String("ATen/")) || header.startsWith(QLatin1String("c10/")))
        return kTorch;
    return unitOf(header);
}

const std::set<std::string> kFamilies = {"core/models/mtal", "core/models/multimodel", "core/models/omninet", "core/models/onemodel"};

// The rules: what each unit may include besides itself. "torch" is listed where torch headers
// are allowed at all (the build narrows it further for omnilab_base's files).
std::map<std::string, std::set<std::string>> rules()
{
    const std::set<std::string> models = {"core/util", "core/config", "core/api", "core/text", "core/sensory", "core/analysis", kTorch};
    auto family = models;
    family.insert("core/models/common");
    // The UI and the CLI: any of core's folders except the model families (they ask for
    // capabilities), and never torch.
    std::set<std::string> front = {"core/util",  "core/config", "core/store", "core/text", "core/demo",   "core/analysis", "core/runtime",
                                   "core/media", "core/sensory", "core/plugin", "core/api", "core/data", "core/mtl",     "core/engine"};
    const auto& ui = front;
    auto app = front;
    app.insert("ui"); // the workbench's main
    std::map<std::string, std::set<std::string>> r = {
        {"core/util", {kTorch}}, // ErrorText.cpp reads torch's exceptions
        {"core/config", {"core/util"}},
        {"core/store", {"core/util"}},
        {"core/text", {"core/util", kTorch}},
        {"core/demo", {"core/util"}},
        {"core/analysis", {"core/util", kTorch}},
        {"core/runtime", {"core/util", kTorch}},
        {"core/media", {"core/util", kTorch}},
        {"core/sensory", {"core/util", "core/analysis"}},
        {"core/plugin", {"core/util", "core/config"}},
        {"core/api", {"core/util", "core/config", kTorch}},
        {"core/data", {"core/util", "core/config", "core/api", "core/media", "core/text", kTorch}},
        {"core/mtl", {"core/util", "core/config", "core/api", "core/analysis", kTorch}},
        {"core/engine",
         {"core/util", "core/config", "core/api", "core/data", "core/media", "core/mtl", "core/runtime", "core/store", "core/text", "core/analysis",
          "core/sensory", kTorch}},
        {"core/models/common", models},
        {"ui", ui},
        {"app", app},
        {"plugins", {"core/util", "core/config", "core/api", "core/plugin", kTorch}},
    };
    for (const auto& f : kFamilies)
        r[f] = family;
    return r;
}

// Every include under `root` that its file's rule does not allow, as "file:line: ...".
std::vector<std::string> violations(const QString& root, const std::map<std::string, std::set<std::string>>& allowed)
{
    static const QRegularExpression include(QStringLiteral("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]"));
    std::vector<std::string> out;
    for (const QString top : {QStringLiteral("core"), QStringLiteral("ui"), QStringLiteral("app"), QStringLiteral("plugins")}) {
        QDirIterator it(root + QLatin1Char('/') + top, {QStringLiteral("*.h"), QStringLiteral("*.cpp")}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString relative = QDir(root).relativeFilePath(path);
            const std::string unit = unitOf(relative);
            if (unit.empty())
                continue;
            const auto rule = allowed.find(unit);
            if (rule == allowed.end()) {
                out.push_back(relative.toStdString() + ": the folder " + unit + " has no layering rule (add one to tests/test_layering.cpp)");
                continue;
            }
            QFile file(path);
            if (!file.open(QIODevice::ReadOnly)) {
                out.push_back(relative.toStdString() + ": cannot be read");
                continue;
            }
            int line = 0;
            while (!file.atEnd()) {
                ++line;
                const auto m = include.match(QString::fromUtf8(file.readLine()));
                if (!m.hasMatch())
                    continue;
                const std::string target = includedUnit(m.captured(1));
                if (target.empty() || target == unit || rule->second.count(target))
                    continue;
                out.push_back(relative.toStdString() + ":" + std::to_string(line) + ": includes " + m.captured(1).toStdString() + ", but " + unit
                              + " may not include " + target);
            }
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& lines)
{
    std::string s;
    for (const auto& l : lines)
        s += "\n  " + l;
    return s;
}

void writeFile(const QString& path, const QByteArray& text)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

} // namespace

class TestLayering : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // The rules form layers: no unit reaches itself through them (so no include cycle among
    // core's folders is possible while the tree keeps to them).
    void rulesHaveNoCycle()
    {
        const auto r = rules();
        std::map<std::string, int> state; // 0 new, 1 on the path, 2 done
        std::vector<std::string> path;
        std::string cycle;
        std::function<void(const std::string&)> visit = [&](const std::string& u) {
            if (!cycle.empty() || state[u] == 2)
                return;
            if (state[u] == 1) {
                for (const auto& p : path)
                    cycle += p + " -> ";
                cycle += u;
                return;
            }
            state[u] = 1;
            path.push_back(u);
            if (auto it = r.find(u); it != r.end())
                for (const auto& v : it->second)
                    if (v != kTorch)
                        visit(v);
            path.pop_back();
            state[u] = 2;
        };
        for (const auto& [u, _] : r)
            visit(u);
        QVERIFY2(cycle.empty(), cycle.c_str());
        // The points of the design the rules must keep.
        QVERIFY(!r.at("core/engine").count("core/models/common"));
        for (const auto& f : kFamilies) {
            QVERIFY(!r.at("core/engine").count(f));
            QVERIFY(!r.at("ui").count(f));
            QVERIFY(!r.at("app").count(f));
            for (const auto& g : kFamilies)
                QVERIFY(f == g || !r.at(f).count(g));
        }
        QVERIFY(!r.at("ui").count(kTorch));
        QVERIFY(!r.at("app").count(kTorch));
    }

    void sourceTreeKeepsItsLayers()
    {
        const QString root = QStringLiteral(OMNILAB_SOURCE_DIR);
        QVERIFY2(QFileInfo::exists(root + QStringLiteral("/core/engine/Trainer.h")), qPrintable(root));
        const auto found = violations(root, rules());
        QVERIFY2(found.empty(), ("includes that break the layering:" + joined(found)).c_str());
    }

    // The checker itself finds each kind of break, naming the file and line.
    void checkerFindsBreaks()
    {
        QTemporaryDir dir;
        const QString root = dir.path();
        writeFile(root + "/core/util/Low.h", "#pragma once\n#include <string>\n#include \"core/engine/Trainer.h\"\n");
        writeFile(root + "/core/engine/Eng.cpp", "#include \"core/util/Low.h\"\n  #  include \"core/models/omninet/OmniNet.h\"\n");
        writeFile(root + "/core/models/mtal/M.cpp", "#include \"core/models/multimodel/MultiModel.h\"\n#include \"core/models/common/ResNet.h\"\n");
        writeFile(root + "/ui/View.cpp", "// #include \"core/models/mtal/Mtal.h\"\n#include <ATen/ATen.h>\n#include \"ui/Other.h\"\n");
        writeFile(root + "/core/newfolder/New.h", "#pragma once\n");
        writeFile(root + "/core/config/Fine.cpp", "#include \"core/util/Error.h\"\n#include <nlohmann/json.hpp>\n");
        auto found = violations(root, rules());
        std::sort(found.begin(), found.end());
        const std::vector<std::string> expected = {
            "core/engine/Eng.cpp:2: includes core/models/omninet/OmniNet.h, but core/engine may not include core/models/omninet",
            "core/models/mtal/M.cpp:1: includes core/models/multimodel/MultiModel.h, but core/models/mtal may not include core/models/multimodel",
            "core/newfolder/New.h: the folder core/newfolder has no layering rule (add one to tests/test_layering.cpp)",
            "core/util/Low.h:3: includes core/engine/Trainer.h, but core/util may not include core/engine",
            "ui/View.cpp:2: includes ATen/ATen.h, but ui may not include torch",
        };
        QVERIFY2(found == expected, joined(found).c_str());
    }
};

QTEST_GUILESS_MAIN(TestLayering)
#include "test_layering.moc"
