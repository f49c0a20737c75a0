#include "hub/registration.hpp"

#include "protocol/encode.hpp"
#include "protocol/names.hpp"
#include "text/confusable_skeleton.hpp"

namespace cturn {

std::optional<protocol_error> check_registered(const local_member& client, const command& request) {
  if (client.name.empty() && !std::holds_alternative<set_username>(request))
    return protocol_error::username_required;
  return std::nullopt;
}

tl::expected<name_claim, protocol_error> prepare_claim(const local_member& client,
                                                       const set_username& request) {
  if (!client.name.empty())
    return tl::unexpected(protocol_error::username_already_set);
  auto name = normalize_username(request.name);
  if (!name)
    return tl::unexpected(name.error());
  name_claim claim;
  claim.skeleton = confusable_skeleton(*name);
  if (request.public_key_valid && request.public_key)
    claim.key_frame = encode_public_key(*name, *request.public_key);
  claim.name = std::move(*name);
  return claim;
}

std::optional<protocol_error> claim_verdict(bool look_alike_held, bool key_valid) {
  if (look_alike_held)
    return protocol_error::username_taken;
  if (!key_valid)
    return protocol_error::public_key_invalid;
  return std::nullopt;
}

}  // namespace cturn
