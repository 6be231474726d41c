// slice: a selection printed as text or saved as a grey PNG.
#include <iostream>

#include "commands.h"
#include "context.h"
#include "dosna/errors.h"
#include "grey_map.h"
#include "png_writer.h"
#include "text_format.h"

namespace dosna::cli {
namespace {

// Beyond this many elements text output is refused (numpy would summarise,
// but the whole selection would still be read).
constexpr std::int64_t kMaxTextElements = std::int64_t{1} << 24;

}  // namespace

int cmd_slice(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  const Selection selection = Selection::parse(args.selection);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  const Dataset ds = con.get_dataset(args.name);
  const NormalizedSelection norm = normalize(selection, ds.shape(), "dataset '" + ds.name() + "'");
  if (args.png.empty()) {
    if (args.vmin || args.vmax) throw InvalidArgument("--vmin/--vmax apply only with --png");
    if (norm.size() > kMaxTextElements)
      throw InvalidArgument("selection '" + args.selection + "' of dataset '" + ds.name() +
                            "' has " + std::to_string(norm.size()) +
                            " elements, too many to print; narrow it, use --png or export");
    std::cout << format_array(ds.read(selection)) << "\n";
    return 0;
  }
  if (norm.result_shape().size() != 2)
    throw InvalidArgument("--png needs a 2-D selection; '" + args.selection + "' of dataset '" +
                          ds.name() + "' has shape " + shape_to_string(norm.result_shape()));
  const NdArray data = ds.read(selection);
  const GreyImage img = grey_map(data, args.vmin, args.vmax);
  write_grey_png(args.png, img.pixels, data.shape()[0], data.shape()[1]);
  if (!args.quiet)
    std::cout << "wrote " << args.png << " (" << data.shape()[1] << "x" << data.shape()[0]
              << " pixels, grey " << img.vmin << " .. " << img.vmax << ")\n";
  return 0;
}

}  // namespace dosna::cli
