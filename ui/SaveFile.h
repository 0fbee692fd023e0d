// Saving from the workbench goes through the engine's one atomic writer (core/util/AtomicFile):
// the old file survives any failure, and a crash never leaves half a file.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QString>
#include <exception>

#include "core/util/AtomicFile.h"

namespace omnilab::ui {

// False, with the reason naming the file in `error`, when it cannot be written.
inline bool saveFileAtomically(const QString& file, const QByteArray& bytes, QString* error = nullptr)
{
    try {
        writeFileAtomically(QFile::encodeName(file).toStdString(), bytes.toStdString());
        return true;
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
}

} // namespace omnilab::ui
