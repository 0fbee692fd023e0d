#pragma once
// core's RgbImage (8-bit RGB rows) as a QImage that owns its pixels.
#include <QImage>

#include "core/data/Preview.h"

namespace omnilab {

inline QImage toQImage(const RgbImage& rgb)
{
    if (rgb.empty())
        return {};
    const QImage view(rgb.pixels.data(), rgb.width, rgb.height, rgb.width * 3, QImage::Format_RGB888);
    return view.copy();
}

} // namespace omnilab
