// The S3 XML replies the s3 backend reads (ListBuckets, ListObjectsV2, error
// bodies), parsed with tinyxml2. Every function takes the body as the server
// sent it, hostile or not: it never crashes, and a reply that is not the
// document asked for is an IoError (never a silently empty result).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dosna::s3 {

// The S3 error code (<Code>) and message (<Message>) of an <Error> body, or
// empty strings when `xml` is not one.
std::pair<std::string, std::string> parse_error(std::string_view xml);

// The bucket names of a ListAllMyBucketsResult, in the reply's order. Names
// are returned as sent; the caller checks them. Throws IoError when `xml` is
// not a ListAllMyBucketsResult.
std::vector<std::string> parse_list_buckets(std::string_view xml);

// One page of a ListObjectsV2 reply (ListBucketResult).
struct ObjectPage {
  std::vector<std::string> keys;  // <Contents><Key>, in the reply's order
  std::vector<std::string> prefixes;  // <CommonPrefixes><Prefix> (delimited listings)
  bool truncated = false;         // <IsTruncated>true</IsTruncated>
  std::string next_token;         // <NextContinuationToken>
};
// Throws IoError when `xml` is not a ListBucketResult, or says it is
// truncated without a continuation token.
ObjectPage parse_list_objects(std::string_view xml);

}  // namespace dosna::s3
