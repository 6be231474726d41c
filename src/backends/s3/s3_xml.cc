#include "backends/s3/s3_xml.h"

#include <tinyxml2.h>

#include "dosna/errors.h"

namespace dosna::s3 {
namespace {

// The root element `name` of `xml`, or nullptr when it does not parse or has
// another root.
const tinyxml2::XMLElement* root_of(tinyxml2::XMLDocument& doc, std::string_view xml,
                                    const char* name) {
  if (xml.empty() || doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) return nullptr;
  return doc.FirstChildElement(name);
}

std::string child_text(const tinyxml2::XMLElement* parent, const char* name) {
  if (parent == nullptr) return "";
  const auto* e = parent->FirstChildElement(name);
  return e && e->GetText() ? e->GetText() : "";
}

template <class F>
void for_children(const tinyxml2::XMLElement* parent, const char* name, F&& fn) {
  if (parent == nullptr) return;
  for (auto* e = parent->FirstChildElement(name); e != nullptr; e = e->NextSiblingElement(name)) fn(e);
}

}  // namespace

std::pair<std::string, std::string> parse_error(std::string_view xml) {
  tinyxml2::XMLDocument doc;
  const auto* root = root_of(doc, xml, "Error");
  if (root == nullptr) return {};
  return {child_text(root, "Code"), child_text(root, "Message")};
}

std::vector<std::string> parse_list_buckets(std::string_view xml) {
  tinyxml2::XMLDocument doc;
  const auto* root = root_of(doc, xml, "ListAllMyBucketsResult");
  if (root == nullptr) throw IoError("unparsable ListBuckets reply (not a ListAllMyBucketsResult)");
  std::vector<std::string> out;
  for_children(root->FirstChildElement("Buckets"), "Bucket",
               [&](const tinyxml2::XMLElement* b) { out.push_back(child_text(b, "Name")); });
  return out;
}

ObjectPage parse_list_objects(std::string_view xml) {
  tinyxml2::XMLDocument doc;
  const auto* root = root_of(doc, xml, "ListBucketResult");
  if (root == nullptr) throw IoError("unparsable ListObjectsV2 reply (not a ListBucketResult)");
  ObjectPage page;
  for_children(root, "Contents",
               [&](const tinyxml2::XMLElement* c) { page.keys.push_back(child_text(c, "Key")); });
  for_children(root, "CommonPrefixes",
               [&](const tinyxml2::XMLElement* c) { page.prefixes.push_back(child_text(c, "Prefix")); });
  page.truncated = child_text(root, "IsTruncated") == "true";
  page.next_token = child_text(root, "NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    throw IoError("ListObjectsV2 reply is truncated but holds no NextContinuationToken");
  }
  return page;
}

}  // namespace dosna::s3
