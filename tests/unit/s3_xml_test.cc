// The S3 XML reply parsers (src/backends/s3/s3_xml.h) on real radosgw replies
// and hostile ones. Needs no service; tests/fuzz/s3_xml_fuzz.cc fuzzes them.
#include <gtest/gtest.h>

#include "backends/s3/s3_xml.h"
#include "dosna/errors.h"

namespace dosna::testing {
namespace {

using s3::parse_error;
using s3::parse_list_buckets;
using s3::parse_list_objects;

TEST(S3Xml, ListBuckets) {
  const std::string radosgw =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Owner><ID>dosna</ID><DisplayName>DosNa</DisplayName></Owner><Buckets><Bucket><Name>huge</Name>)"
      R"(<CreationDate>2026-12-03T09:16:55.846Z</CreationDate></Bucket><Bucket><Name>three</Name>)"
      R"(<CreationDate>2026-12-03T09:16:56.058Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>)";
  EXPECT_EQ(parse_list_buckets(radosgw), (std::vector<std::string>{"huge", "three"}));
  EXPECT_TRUE(parse_list_buckets("<ListAllMyBucketsResult/>").empty());
  // Names come back as sent (entities decoded); the backend checks them.
  EXPECT_EQ(parse_list_buckets("<ListAllMyBucketsResult><Buckets><Bucket><Name>a&amp;b</Name></Bucket>"
                               "<Bucket/></Buckets></ListAllMyBucketsResult>"),
            (std::vector<std::string>{"a&b", ""}));
  for (const char* bad : {"", "<Error><Code>AccessDenied</Code></Error>", "<ListAllMyBucketsResult>",
                          "not xml", "<ListBucketResult/>"}) {
    EXPECT_THROW(parse_list_buckets(bad), IoError) << bad;
  }
}

TEST(S3Xml, ListObjects) {
  const auto page = parse_list_objects(
      "<ListBucketResult><Contents><Key>0.0</Key></Contents><Contents><Key>dataset_root</Key></Contents>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>");
  EXPECT_EQ(page.keys, (std::vector<std::string>{"0.0", "dataset_root"}));
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "tok");
  EXPECT_FALSE(parse_list_objects("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>").truncated);
  // Truncated without a token would make the caller loop or stop silently.
  EXPECT_THROW(parse_list_objects("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"), IoError);
  EXPECT_THROW(parse_list_objects("<ListAllMyBucketsResult/>"), IoError);
  EXPECT_THROW(parse_list_objects(""), IoError);
}

TEST(S3Xml, Errors) {
  EXPECT_EQ(parse_error("<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>"),
            (std::pair<std::string, std::string>{"NoSuchBucket", "gone"}));
  EXPECT_EQ(parse_error("<ListBucketResult/>"), (std::pair<std::string, std::string>{}));
  EXPECT_EQ(parse_error("<Error>"), (std::pair<std::string, std::string>{}));
  EXPECT_EQ(parse_error(""), (std::pair<std::string, std::string>{}));
}

}  // namespace
}  // namespace dosna::testing
