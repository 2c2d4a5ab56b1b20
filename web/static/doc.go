// Package static contains the browser assets that the server embeds and
// the SVG images it draws for products and offers.
//
// Assets holds widget.js, the embeddable chat widget, and index.html, the
// demo store page. RenderProductImage and RenderBanner draw SVG images from
// their inputs alone: they fetch nothing, reference no external font or
// image, and XML-escape every string they are given. All exported functions
// are safe for concurrent use.
package static

import "embed"

// Assets contains widget.js and index.html at the root of the file system.
//
//go:embed widget.js index.html
var Assets embed.FS
