#include "tfreeze/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

struct NumericDescr {
  const char* descr;
  DType dtype;
};

constexpr NumericDescr kNumeric[] = {
    {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<f2", DType::kFloat16},
    {"|i1", DType::kInt8},    {"<i2", DType::kInt16},   {"<i4", DType::kInt32},
    {"<i8", DType::kInt64},   {"|u1", DType::kUInt8},   {"<u2", DType::kUInt16},
    {"<u4", DType::kUInt32},  {"<u8", DType::kUInt64},  {"|b1", DType::kBool},
};

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw Error(Code::kInvalidArgument, "\"" + path + "\": " + problem);
}

struct Header {
  std::string descr;
  Shape shape;
};

Header ParseHeader(const std::string& text, const std::string& path) {
  std::smatch match;
  Header header;
  if (!std::regex_search(text, match, std::regex(R"('descr':\s*'([^']+)')"))) {
    Fail(path, "no 'descr' in the .npy header");
  }
  header.descr = match[1];
  if (std::regex_search(text, std::regex(R"('fortran_order':\s*True)"))) {
    Fail(path, "Fortran-ordered arrays are not supported; save np.ascontiguousarray(x)");
  }
  if (!std::regex_search(text, match, std::regex(R"('shape':\s*\(([^)]*)\))"))) {
    Fail(path, "no 'shape' in the .npy header");
  }
  const std::string dims = match[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    header.shape.push_back(std::stoll(it->str()));
  }
  return header;
}

// UTF-32LE code points -> UTF-8, stopping at the first NUL (numpy pads with NULs).
std::string Utf32ToUtf8(const char* data, std::size_t chars) {
  std::string out;
  for (std::size_t i = 0; i < chars; ++i) {
    std::uint32_t c;
    std::memcpy(&c, data + 4 * i, 4);
    if (c == 0) break;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

Tensor StringsFromNpy(const Header& header, const std::string& body, const std::string& path) {
  const bool unicode = header.descr[1] == 'U';
  const std::size_t width = std::stoul(header.descr.substr(2)) * (unicode ? 4 : 1);
  const auto count = static_cast<std::size_t>(NumElements(header.shape));
  if (body.size() < count * width) Fail(path, "the file is shorter than its header says");
  std::vector<std::string> values;
  for (std::size_t i = 0; i < count; ++i) {
    const char* item = body.data() + i * width;
    if (unicode) {
      values.push_back(Utf32ToUtf8(item, width / 4));
    } else {
      values.emplace_back(item, strnlen(item, width));
    }
  }
  return Tensor::FromStrings(header.shape, values);
}

std::string Descr(const Tensor& tensor, std::size_t* string_width) {
  if (tensor.dtype() == DType::kString) {
    std::size_t width = 1;
    for (const auto& value : tensor.ToStrings()) width = std::max(width, value.size());
    *string_width = width;
    return "|S" + std::to_string(width);
  }
  for (const auto& entry : kNumeric) {
    if (entry.dtype == tensor.dtype()) return entry.descr;
  }
  throw Error(Code::kUnimplemented,
              DTypeName(tensor.dtype()) + " has no .npy type; cast it before saving");
}

std::string ShapeLiteral(const Shape& shape) {
  std::string text = "(";
  for (std::int64_t dim : shape) text += std::to_string(dim) + ",";
  if (shape.size() > 1) text.pop_back();
  return text + ")";
}

}  // namespace

Tensor ReadNpy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(Code::kNotFound, "\"" + path + "\" does not exist or cannot be read");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < kMagicSize + 4 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    Fail(path, "not a .npy file (save arrays with numpy.save)");
  }
  const int major = static_cast<unsigned char>(bytes[kMagicSize]);
  const std::size_t length_size = major == 1 ? 2 : 4;
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_size; ++i) {
    header_length |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  }
  const std::size_t data_start = 8 + length_size + header_length;
  if (bytes.size() < data_start) Fail(path, "truncated .npy header");
  const Header header = ParseHeader(bytes.substr(8 + length_size, header_length), path);
  const std::string body = bytes.substr(data_start);
  const char kind = header.descr.size() > 1 ? header.descr[1] : '?';
  if ((kind == 'U' || kind == 'S') && header.descr[0] != '>') {
    return StringsFromNpy(header, body, path);
  }
  for (const auto& entry : kNumeric) {
    if (header.descr != entry.descr) continue;
    Tensor tensor(entry.dtype, header.shape);
    if (body.size() < tensor.byte_size()) Fail(path, "the file is shorter than its header says");
    std::memcpy(tensor.raw_data(), body.data(), tensor.byte_size());
    return tensor;
  }
  Fail(path, "unsupported .npy dtype '" + header.descr +
                 "'; supported: little-endian float16/32/64, int8-64, uint8-64, bool, str, bytes");
}

void WriteNpy(const std::string& path, const Tensor& tensor) {
  std::size_t string_width = 0;
  const std::string descr = Descr(tensor, &string_width);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       ShapeLiteral(tensor.shape()) + ", }";
  // Pad so that the data starts on a 64-byte boundary, as numpy does.
  const std::size_t unpadded = kMagicSize + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream file(path, std::ios::binary);
  if (!file) throw Error(Code::kPermissionDenied, "cannot write \"" + path + "\"");
  file.write(kMagic, kMagicSize);
  file.put(1).put(0);
  file.put(static_cast<char>(header.size() & 0xFF)).put(static_cast<char>(header.size() >> 8));
  file << header;
  if (tensor.dtype() == DType::kString) {
    for (const auto& value : tensor.ToStrings()) {
      std::string padded = value;
      padded.resize(string_width, '\0');
      file << padded;
    }
  } else {
    file.write(static_cast<const char*>(tensor.raw_data()),
               static_cast<std::streamsize>(tensor.byte_size()));
  }
  if (!file) throw Error(Code::kDataLoss, "writing \"" + path + "\" failed");
}

}  // namespace tfreeze
