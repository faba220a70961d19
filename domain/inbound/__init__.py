"""The inbound robot (呼入智能客服): who is routed straight to a person, what the robot does
after each turn, and the record of every call."""
